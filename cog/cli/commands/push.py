"""`cog push`: build the image and upload it to a registry."""

from __future__ import annotations

from typing import Any

import click

from cog.cli import _options
from cog.cli._progress import command_progress
from cog.cli.commands.build import BuildFlags, build_image
from cog.config import load_config
from cog.errors import CogError
from cog.rules.registry import push as push_image
from cog.rules.registry.reference import model_reference
from cog.rules.registry.referrers import attach_lock_and_sbom


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
    if image is None and config.image is None:
        raise CogError(
            f"no image to push: give one as an argument or set image in "
            f"{flags.project.config_file}",
            "For example: cog push my-registry.example:5000/me/my-model",
        )
    destination = model_reference(image or config.image)
    built = build_image(flags, None)
    result = push_image(
        built.layout,
        built.manifest_digest,
        str(destination),
        progress=command_progress(flags.progress),
    )
    sent = len(result.uploaded)
    click.echo(
        f"Pushed {destination}@{result.digest} "
        f"({sent} uploaded, {len(result.skipped)} already there, {len(result.mounted)} mounted)"
    )
    attach_lock_and_sbom(
        str(destination),
        built.layout,
        built.manifest_digest,
        built.lock.read_text(encoding="utf-8"),
        built.sbom.read_bytes(),
    )
    click.echo(f"Attached cog.lock and the SBOM to {destination}@{result.digest}")
