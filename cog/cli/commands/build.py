"""`cog build`: an OCI image from cog.yaml and cog.lock."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cog.building import BuildResult, build_project
from cog.cli import _options
from cog.cli._options import BuildSecret, ProjectFile, parse_secret
from cog.cli._progress_display import command_progress
from cog.config import Config, load_config
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
    config = load_config(flags.project.config_path)
    result = build_image(flags, tag, config=config)
    # The reference's line (on stderr); stdout keeps the digest for scripts.
    click.echo(f"Image built as {result.tag}", err=True)
    click.echo(result.manifest_digest)


def build_image(flags: BuildFlags, tag: str | None, *, config: Config | None = None) -> BuildResult:
    """Build the project's image from cog.lock; `cog push` builds through here too.
    ``config`` is cog.yaml as the command read it (read once per command)."""
    if flags.openapi_schema is not None:
        raise CogError(
            "--openapi-schema is not supported: the schema is always generated from the source",
            "Drop the flag; `cog schema` shows the generated document.",
        )
    with secret_files(flags.secrets) as secrets:
        return build_project(
            flags.project.project_dir,
            config_file=flags.project.config_file,
            tag=tag,
            separate_weights=flags.separate_weights,
            no_cache=flags.no_cache,
            progress=command_progress(flags.progress),
            secrets=secrets,
            config=config,
        )


@contextmanager
def secret_files(secrets: tuple[BuildSecret, ...]) -> Iterator[dict[str, Path]]:
    """Each secret's id and the file bound in for it: ``src`` itself, or (``env=NAME``) a
    private file holding the variable's value, removed when the build ends."""
    with tempfile.TemporaryDirectory(prefix="cog-secrets-") as folder:
        files: dict[str, Path] = {}
        for secret in secrets:
            if secret.env is not None:
                value = os.environ.get(secret.env)
                if value is None:
                    raise CogError(
                        f"--secret id={secret.id}: environment variable {secret.env} is not set",
                        f"Set it (export {secret.env}=...) or pass the secret from a file: "
                        f"--secret id={secret.id},src=PATH",
                    )
                path = Path(folder) / f"{len(files)}-{secret.id}"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(value)
                files[secret.id] = path
            else:
                assert secret.src is not None
                if not secret.src.is_file():
                    raise CogError(
                        f"--secret id={secret.id}: {secret.src} is not a file",
                        "Give the path of the secret's file with src=PATH.",
                    )
                files[secret.id] = secret.src
        yield files
