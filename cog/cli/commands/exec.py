"""`cog exec`: run any command inside the environment cog.yaml defines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from cog._container.session import exec_command as exec_in_container
from cog._container.session import run_options_for
from cog.cli import _options
from cog.cli._images import image_to_run
from cog.cli._options import ProjectFile, parse_env


@dataclass(frozen=True)
class ExecRequest:
    project: ProjectFile
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    gpus: str | None = None
    runtime: str = "runc"
    publish: tuple[str, ...] = ()
    progress: str = "auto"


@click.command(
    "exec",
    # Everything after the command is the command's own: `cog exec python -c "..."`.
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@_options.env
@_options.config_file
@_options.gpus
@_options.runtime
@_options.progress
@click.option(
    "-p",
    "--publish",
    multiple=True,
    metavar="PORT",
    help="Publish a container's port to the host, e.g. -p 8000. Can be repeated.",
)
@_options.use_cog_base_image
@_options.use_cuda_base_image
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def exec_command(
    *,
    env: tuple[str, ...],
    config_file: str,
    gpus: str | None,
    runtime: str,
    progress: str,
    publish: tuple[str, ...],
    use_cog_base_image: bool,
    use_cuda_base_image: str,
    command: tuple[str, ...],
) -> None:
    """Execute a command inside the environment defined by cog.yaml.

    Cog builds an image from cog.yaml and runs COMMAND inside it with the current directory
    mounted. Useful for debugging, running scripts, or exploring the model's environment.
    """
    request = ExecRequest(
        project=ProjectFile(Path(config_file)),
        args=command,
        env=parse_env(env),
        gpus=gpus,
        runtime=runtime,
        publish=publish,
        progress=progress,
    )
    exec_in_image(request)


def exec_in_image(request: ExecRequest) -> None:
    target = image_to_run(None, request.project, request.progress)
    options = run_options_for(
        env=request.env,
        gpus=request.gpus,
        gpu_default=target.gpu,
        setup_timeout=None,
        engine=request.runtime,
    )
    code = exec_in_container(target.image, request.args, request.project.project_dir, options)
    if code:
        raise click.exceptions.Exit(code)
