"""`cog pull`: fetch an image from a registry into the local image store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from cog._container.store import pull_image
from cog.cli import _options
from cog.cli._progress_display import command_progress
from cog.errors import CogError
from cog.rules.registry.referrers import fetch_attachments


@dataclass(frozen=True)
class PullRequest:
    image: str
    platform: str = "linux/amd64"
    progress: str = "auto"
    with_sbom: Path | None = None


@click.command("pull")
@click.option(
    "--platform", default="linux/amd64", show_default=True, help="The platform to pull, as os/arch."
)
@_options.progress
@click.option(
    "--with-sbom",
    "with_sbom",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Also fetch the cog.lock and SBOM attached to the image into DIR.",
)
@click.argument("image")
def pull_command(platform: str, progress: str, with_sbom: Path | None, image: str) -> None:
    """Pull an image from a registry.

    Fetches only the blobs of IMAGE that are not already cached.
    """
    pull(PullRequest(image=image, platform=platform, progress=progress, with_sbom=with_sbom))


def pull(request: PullRequest) -> None:
    image = pull_image(
        request.image, platform=request.platform, progress=command_progress(request.progress)
    )
    click.echo(f"Pulled {request.image}@{image.manifest_digest}")
    if request.with_sbom is not None:
        request.with_sbom.mkdir(parents=True, exist_ok=True)
        found = fetch_attachments(request.image, image.manifest_digest, request.with_sbom)
        if not found:
            raise CogError(
                f"{request.image} has no cog.lock or SBOM attached",
                "Push it with this cog (`cog push`) to attach them.",
            )
        for path in sorted(found.values()):
            click.echo(f"Wrote {path}")
