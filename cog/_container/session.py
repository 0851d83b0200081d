"""What `cog run`/`predict`/`train`, `serve` and `exec` do with an image."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cog._container.api_client import RuntimeClient
from cog._container.cdi import implicit_gpus, resolve_gpus
from cog._container.engines import EngineContainer
from cog._container.image import Image
from cog._container.inputs import (
    check_input_names,
    check_required_inputs,
    input_properties,
    type_inputs,
)
from cog._container.outputs import Rendered, render_prediction
from cog._container.reaper import reap_stale, state_root
from cog._container.rootfs import unpacked_rootfs
from cog._container.runc import BindMount, Container, ContainerSpec
from cog.errors import RunError
from cog.progress import NullProgress, Progress
from cog.rules._files import default_cache_root as cache_root

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class RunOptions:
    env: Mapping[str, str] = field(default_factory=dict)
    gpus: str | None = None  # docker's --gpus syntax
    setup_timeout: float | None = 300.0
    mounts: tuple[BindMount, ...] = ()
    engine: str = "runc"  # or podman, docker


def run_options_for(
    *,
    env: Mapping[str, str],
    gpus: str | None,
    gpu_default: bool,
    setup_timeout: float | None,
    pass_replicate_token: bool = False,
    engine: str = "runc",
) -> RunOptions:
    """The container options the run/serve/exec flags and cog.yaml ask for."""
    env = dict(env)
    if pass_replicate_token and "REPLICATE_API_TOKEN" in os.environ:
        env["REPLICATE_API_TOKEN"] = os.environ["REPLICATE_API_TOKEN"]
    # gpu: true asks for every GPU, as the reference's `--gpus all`; a machine without an
    # NVIDIA driver runs the model on the CPU instead, as the reference retries without.
    want_gpus = gpus or (implicit_gpus(engine) if gpu_default else None)
    timeout = float(setup_timeout) if setup_timeout else None
    return RunOptions(env=env, gpus=want_gpus, setup_timeout=timeout, engine=engine)


def require_free_port(host: str, port: int) -> None:
    """Fail before starting anything when the port is taken (the server would die later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise RunError(
                f"port {port} on {host} is already in use ({exc.strerror})",
                "Choose another one with -p PORT.",
            ) from exc


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def make_container(
    image: Image, spec: ContainerSpec, engine: str, progress: Progress | None = None
) -> Container | EngineContainer:
    """runc on the cached, unpacked image; or podman/docker with the image loaded into them."""
    # Whatever a killed cog left running or mounted goes first (see runc.py).
    records = state_root(cache_root())
    reap_stale(records, shutil.which("runc"))
    if engine == "runc":
        gpu_devices = resolve_gpus(spec.gpus) if spec.gpus else ()  # fail before unpacking
        rootfs = unpacked_rootfs(image, cache_root(), progress or NullProgress())
        return Container(rootfs, spec, records=records, gpu_devices=gpu_devices)
    return EngineContainer(engine, image, spec)


def require_cog_image(image: Image) -> None:
    if not image.is_cog_image:
        raise RunError(
            f"{image.manifest_digest[:19]} is not a Cog image (it has no run.cog.* labels)",
            "Run an image built by `cog build`, or use `cog exec` for any image.",
        )


def server_spec(
    image: Image, port: int, host: str, options: RunOptions, extra_args: tuple[str, ...] = ()
) -> ContainerSpec:
    env = image.config.env_dict() | {"PORT": str(port)} | dict(options.env)
    args = (*image.config.entrypoint, *image.config.cmd, "--host", host, *extra_args)
    return ContainerSpec(
        args=args, env=env, cwd=image.config.working_dir, mounts=options.mounts, gpus=options.gpus
    )


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM to cog stops the container as Ctrl-C does, instead of orphaning it."""

    def interrupt(signum: int, frame: object) -> None:
        # Once: a second SIGTERM must not cut short the teardown the first one started.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def running_server(
    image: Image,
    options: RunOptions,
    *,
    port: int | None = None,
    host: str = LOOPBACK,
    extra_args: tuple[str, ...] = (),
    progress: Progress | None = None,
) -> Iterator[tuple[Container | EngineContainer, RuntimeClient]]:
    """The image's server running (runc by default), ready (setup done) when this yields."""
    require_cog_image(image)
    port = port if port is not None else free_port(host)
    spec = server_spec(image, port, host, options, extra_args)
    container = make_container(image, spec, options.engine, progress)
    with _terminate_as_interrupt(), container:
        # The model's own output goes to our stderr, keeping stdout for the prediction.
        process = container.start(stdout=sys.stderr.fileno(), stderr=sys.stderr.fileno())
        client = RuntimeClient(f"http://{host}:{port}")
        client.wait_until_ready(options.setup_timeout, lambda: process.poll() is None)
        yield container, client


def predict(
    image: Image,
    inputs: dict[str, Any],
    *,
    output_path: Path | None,
    options: RunOptions,
    train: bool = False,
    progress: Progress | None = None,
) -> Rendered:
    endpoint = "trainings" if train else "predictions"
    schema = image_schema(image)
    properties = input_properties(schema, train)
    if schema is not None:
        check_input_names(inputs, properties)
        check_required_inputs(inputs, schema, train)
    typed = type_inputs(inputs, properties)
    # One prediction: the server's own start and stop lines would only bury the model's.
    # What the model prints reaches our stderr as it prints it: the runtime writes it to
    # the container's own output too (as the reference's), which running_server hands us.
    quiet = dataclasses.replace(options, env={"COG_LOG_LEVEL": "warning", **options.env})
    with running_server(image, quiet, progress=progress) as (_, client):
        prediction_id = secrets.token_hex(13)
        request = {"id": prediction_id, "input": typed}
        try:
            body = client.predict(request, endpoint=endpoint)
        except KeyboardInterrupt:
            client.cancel(prediction_id, endpoint=endpoint)
            raise
    output_schema = _components(schema).get("TrainingOutput" if train else "Output", {})
    concatenate = output_schema.get("x-cog-array-display") == "concatenate"
    return render_prediction(body, output_path, concatenate=concatenate)


def image_schema(image: Image) -> dict[str, Any] | None:
    """The OpenAPI document the image carries in its run.cog.openapi_schema label."""
    text = image.config.labels.get("run.cog.openapi_schema")
    if not text:
        return None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) else None


def _components(schema: dict[str, Any] | None) -> dict[str, Any]:
    components = (schema or {}).get("components", {}).get("schemas", {})
    return components if isinstance(components, dict) else {}


def serve(
    image: Image, *, port: int, host: str, upload_url: str | None, options: RunOptions
) -> int:
    """Serve in the foreground until Ctrl-C or the server exits; returns its exit code."""
    require_free_port(host, port)
    extra = ("--upload-url", upload_url) if upload_url else ()
    try:
        with running_server(image, options, port=port, host=host, extra_args=extra) as (
            container,
            _,
        ):
            print(f"Serving at http://{host}:{port}", file=sys.stderr)
            return container.wait()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM, even during setup: a normal stop
        return 0


def exec_command(
    image: Image, args: tuple[str, ...], project_dir: Path, options: RunOptions
) -> int:
    """Run ``args`` in the image with the project mounted at /src, as `cog exec` does."""
    env = image.config.env_dict() | dict(options.env)
    mounts = (BindMount(project_dir.resolve(), "/src"), *options.mounts)
    terminal = sys.stdin.isatty() and sys.stdout.isatty()
    spec = ContainerSpec(
        args=args, env=env, cwd="/src", mounts=mounts, terminal=terminal, gpus=options.gpus
    )
    with _terminate_as_interrupt(), make_container(image, spec, options.engine) as container:
        process = container.start(stdin=None)
        try:
            return process.wait()
        except KeyboardInterrupt:
            return 130
