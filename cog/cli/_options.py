"""Options shared by several commands, spelt as the reference spells them."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from cog.errors import CogError

F = TypeVar("F", bound=Callable[..., Any])
PROGRESS_MODES = ("auto", "tty", "plain", "quiet")


def compose(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


config_file = click.option(
    "-f",
    "--file",
    "config_file",
    default="cog.yaml",
    show_default=True,
    metavar="FILE",
    help="The name of the config file.",
)
progress = click.option(
    "--progress",
    type=click.Choice(PROGRESS_MODES),
    default="auto",
    show_default=True,
    help="Set type of build progress output.",
)
# The reference's boolean flags take an optional value (--use-cog-base-image=false).
use_cog_base_image = click.option(
    "--use-cog-base-image",
    type=click.BOOL,
    default=True,
    is_flag=False,
    flag_value=True,
    show_default=True,
    help="Accepted for compatibility: images are assembled from cog.lock, not from a base image.",
)
use_cuda_base_image = click.option(
    "--use-cuda-base-image",
    type=click.Choice(("true", "false", "auto")),
    default="auto",
    show_default=True,
    help="Accepted for compatibility: CUDA comes from the locked wheels (torch bundles it).",
)
env = click.option(
    "-e",
    "--env",
    "env",
    multiple=True,
    metavar="NAME=VALUE",
    help="Environment variables, in the form name=value. Can be repeated.",
)
gpus = click.option(
    "--gpus",
    default=None,
    metavar="GPUS",
    help="GPU devices to add to the container, in the same format as `docker run --gpus`.",
)
runtime = click.option(
    "--runtime",
    type=click.Choice(["runc", "podman", "docker"]),
    default="runc",
    show_default=True,
    envvar="COG_RUNTIME",
    help="What runs the image: runc (no daemon needed), podman or docker.",
)
build_flags = compose(
    click.option("--no-cache", is_flag=True, help="Do not use cache when building the image."),
    click.option(
        "--openapi-schema",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Load OpenAPI schema from a file.",
    ),
    progress,
    click.option(
        "--secret",
        "secrets",
        multiple=True,
        metavar="id=ID,src=PATH",
        help="Secrets to pass to the build environment in the form 'id=foo,src=/path/to/file' "
        "(or 'id=foo,env=NAME': the value of variable NAME). Can be repeated.",
    ),
    click.option(
        "--separate-weights",
        is_flag=True,
        help="Separate model weights from code in image layers.",
    ),
    use_cog_base_image,
    use_cuda_base_image,
)


@dataclass(frozen=True)
class BuildSecret:
    """``--secret``, BuildKit's syntax: ``id=pip,src=/path/pip.conf`` (a file) or
    ``id=token,env=HF_TOKEN`` (a variable's value), mounted while build.run commands run."""

    id: str
    src: Path | None = None
    env: str | None = None


_SECRET_FORM = "id=ID,src=PATH or id=ID,env=NAME"  # noqa: S105 (a usage string)


def parse_secret(text: str) -> BuildSecret:
    """As docker buildx reads it: ``type=file|env``, ``src``/``source``, ``env``; with
    neither, the id names a variable when one is set, a file otherwise."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip().lower()
        if not sep or name not in ("type", "id", "src", "source", "env"):
            raise _secret_error(text)
        fields["src" if name == "source" else name] = value
    kind = fields.pop("type", "file")
    secret_id = fields.get("id", "")
    if kind not in ("file", "env") or not secret_id:
        raise _secret_error(text)
    src, env = fields.get("src") or None, fields.get("env") or None
    if kind == "env" and env is None:
        src, env = None, src
    if src is None and env is None:
        src, env = (None, secret_id) if secret_id in os.environ else (secret_id, None)
    return BuildSecret(id=secret_id, src=Path(src) if src else None, env=env)


def _secret_error(text: str) -> CogError:
    return CogError(
        f"--secret '{text}' is not in the form {_SECRET_FORM}",
        "For example: --secret id=pip,src=$HOME/.config/pip/pip.conf "
        "or --secret id=hf,env=HF_TOKEN",
    )


def parse_env(values: tuple[str, ...]) -> dict[str, str]:
    """``-e NAME=value`` flags as a mapping; the last wins, as with docker."""
    out: dict[str, str] = {}
    for text in values:
        name, sep, value = text.partition("=")
        if not sep or not name:
            raise CogError(
                f"-e '{text}' is not in the form NAME=value",
                "For example: -e HF_TOKEN=abc123 (use -e NAME= for an empty value).",
            )
        out[name] = value
    return out


@dataclass(frozen=True)
class ProjectFile:
    """-f/--file: the config file, and the project directory that holds it."""

    config_path: Path

    @property
    def project_dir(self) -> Path:
        return self.config_path.absolute().parent

    @property
    def config_file(self) -> str:
        return self.config_path.name
