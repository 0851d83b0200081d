"""`cog serve`: the HTTP prediction server, in an image or (--local) in this Python."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import click

from cog._container.session import run_options_for
from cog._container.session import serve as serve_image
from cog.cli import _options
from cog.cli._images import image_to_run
from cog.cli._options import ProjectFile, parse_env
from cog.config import load_config


@dataclass(frozen=True)
class ServeRequest:
    project: ProjectFile
    image: str | None = None
    port: int = 8393
    host: str = "127.0.0.1"
    upload_url: str | None = None
    local: bool = False
    env: dict[str, str] = field(default_factory=dict)
    gpus: str | None = None
    runtime: str = "runc"
    progress: str = "auto"


@click.command("serve")
@click.argument("image", required=False)
@_options.config_file
@_options.env
@_options.gpus
@_options.runtime
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=8393,
    show_default=True,
    help="Port on which to listen.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for every interface).",
)
@_options.progress
@click.option(
    "--upload-url",
    default=None,
    help="Upload URL for file outputs (e.g. https://example.com/upload/).",
)
@click.option(
    "--local",
    is_flag=True,
    help="Serve the project in the current directory with this Python, without building an image.",
)
@_options.use_cog_base_image
@_options.use_cuda_base_image
def serve_command(
    *,
    image: str | None,
    config_file: str,
    env: tuple[str, ...],
    gpus: str | None,
    runtime: str,
    port: int,
    host: str,
    progress: str,
    upload_url: str | None,
    local: bool,
    use_cog_base_image: bool,
    use_cuda_base_image: str,
) -> None:
    """Run an HTTP server.

    Builds the model and starts an HTTP server that exposes the model's inputs and outputs
    as a REST API, compatible with the Cog HTTP protocol.
    """
    request = ServeRequest(
        project=ProjectFile(Path(config_file)),
        image=image,
        port=port,
        host=host,
        upload_url=upload_url,
        local=local,
        env=parse_env(env),
        gpus=gpus,
        runtime=runtime,
        progress=progress,
    )
    serve(request)


def serve(request: ServeRequest) -> None:
    if request.local:
        serve_local(request)
        return
    target = image_to_run(request.image, request.project, request.progress)
    options = run_options_for(
        env=request.env,
        gpus=request.gpus,
        gpu_default=target.gpu,
        setup_timeout=None,
        engine=request.runtime,
    )
    code = serve_image(
        target.image,
        port=request.port,
        host=request.host,
        upload_url=request.upload_url,
        options=options,
    )
    if code:
        raise click.exceptions.Exit(code)


def serve_local(request: ServeRequest) -> None:
    """The runtime in this process: cog.yaml's ``environment:`` and then ``-e`` apply, as in
    an image (where they are the image's and the container's environment).

    A predict/train file that does not exist is the runtime's to report, as in an image: it
    serves and /health-check says SETUP_FAILED naming the file. Other cog.yaml errors stop
    it here."""
    config = load_config(request.project.config_path, entry_files=False)
    from cog.runtime import serve_local as runtime_serve_local  # noqa: PLC0415

    with _environment({**config.environment, **request.env}):
        runtime_serve_local(
            request.project.project_dir, request.host, request.port, request.upload_url
        )


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` set (the server and its workers read it), then as before."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
