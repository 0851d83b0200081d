"""`cog build`: an OCI image from cog.yaml and cog.lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cog.building import BuildResult, build_project
from cog.cli import _options
from cog.cli._options import BuildSecret, ProjectFile, parse_secret
from cog.cli._progress import command_progress
from cog.config import load_config
from cog.errors import CogError


@dataclass(frozen=True)
class BuildFlags:
    """The flags `cog build` shares with `cog push`."""

    project: ProjectFile
    no_cache: bool = False
    openapi_schema: Path | None = None
    progress: str = "auto"
    secrets: tuple[BuildSecret, ...] = ()
    separate_weights: bool = False
    use_cog_base_image: bool = True
    use_cuda_base_image: str = "auto"

    @classmethod
    def from_options(
        cls,
        *,
        config_file: str,
        no_cache: bool,
        openapi_schema: Path | None,
        progress: str,
        secrets: tuple[str, ...],
        separate_weights: bool,
        use_cog_base_image: bool,
        use_cuda_base_image: str,
    ) -> BuildFlags:
        return cls(
            project=ProjectFile(Path(config_file)),
            no_cache=no_cache,
            openapi_schema=openapi_schema,
            progress=progress,
            secrets=tuple(parse_secret(text) for text in secrets),
            separate_weights=separate_weights,
            use_cog_base_image=use_cog_base_image,
            use_cuda_base_image=use_cuda_base_image,
        )


@click.command("build")
@_options.config_file
@_options.build_flags
@click.option(
    "-t", "--tag", default=None, help="A name for the built image in the form 'repository:tag'."
)
def build_command(*, tag: str | None, **options: Any) -> None:
    """Build an image from the cog.yaml in the current directory.

    The image contains your model code, dependencies, and the Cog runtime. It can be run
    locally with 'cog run' or pushed to a registry with 'cog push'.
    """
    build(BuildFlags.from_options(**options), tag)


def build(flags: BuildFlags, tag: str | None) -> None:
    # cog.yaml (and the files it names) is checked before any build work starts.
    load_config(flags.project.config_path)
    result = build_image(flags, tag)
    click.echo(f"Built {result.tag} {result.manifest_digest}")


def build_image(flags: BuildFlags, tag: str | None) -> BuildResult:
    """Build the project's image from cog.lock; `cog push` builds through here too."""
    if flags.openapi_schema is not None:
        raise CogError(
            "--openapi-schema is not supported: the schema is always generated from the source",
            "Drop the flag; `cog schema` shows the generated document.",
        )
    return build_project(
        flags.project.project_dir,
        config_file=flags.project.config_file,
        tag=tag,
        separate_weights=flags.separate_weights,
        no_cache=flags.no_cache,
        progress=command_progress(flags.progress),
        secrets={secret.id: secret.src for secret in flags.secrets},
    )
