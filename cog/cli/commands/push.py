"""`cog push`: build the image and upload it to a registry (``cog.pushing`` does the work)."""

from __future__ import annotations

from functools import partial
from typing import Any

import click

from cog.cli import _options
from cog.cli._progress_display import command_progress
from cog.cli.commands.build import BuildFlags, build_image
from cog.config import load_config
from cog.pushing import Pushed, push_destination, push_project


@click.command("push")
@_options.config_file
@_options.build_flags
@click.argument("image", required=False)
def push_command(*, image: str | None, **options: Any) -> None:
    """Build an image from cog.yaml and push it to a container registry.

    IMAGE defaults to the image key of cog.yaml. Cog can push to any OCI-compliant
    registry; run 'cog login' first if it needs credentials.
    """
    push(BuildFlags.from_options(**options), image)


def push(flags: BuildFlags, image: str | None) -> None:
    config = load_config(flags.project.config_path)
    destination = push_destination(config, image, flags.project.config_file)
    done = push_project(
        destination,
        partial(build_image, flags, None, config=config),
        partial(command_progress, flags.progress),
        pushed=_say_pushed,
    )
    click.echo(f"Attached cog.lock and the SBOM to {destination}@{done.digest}")


def _say_pushed(done: Pushed) -> None:
    click.echo(
        f"Pushed {done.destination}@{done.digest} "
        f"({done.uploaded} uploaded, {done.skipped} already there, {done.mounted} mounted)"
    )
