"""`cog pull`: fetch an image from a registry into the local image store."""

from __future__ import annotations

from dataclasses import dataclass

import click

from cog._run.store import pull_image
from cog.cli import _options
from cog.cli._progress import command_progress


@dataclass(frozen=True)
class PullRequest:
    image: str
    platform: str = "linux/amd64"
    progress: str = "auto"


@click.command("pull")
@click.option(
    "--platform", default="linux/amd64", show_default=True, help="The platform to pull, as os/arch."
)
@_options.progress
@click.argument("image")
def pull_command(platform: str, progress: str, image: str) -> None:
    """Pull an image from a registry.

    Fetches only the blobs of IMAGE that are not already cached.
    """
    pull(PullRequest(image=image, platform=platform, progress=progress))


def pull(request: PullRequest) -> None:
    image = pull_image(
        request.image, platform=request.platform, progress=command_progress(request.progress)
    )
    click.echo(f"Pulled {request.image}@{image.manifest_digest}")
