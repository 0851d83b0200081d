"""A worker process: imports the model, runs setup(), then runs predictions on request.

Started fresh by the supervisor as ``python -m cog.runtime.worker`` (never forked from the
server); talks to it only through two pipes whose descriptors are on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import pathlib
import signal
import sys
import threading
import traceback
from typing import Any

from cog.runtime._capture import Capture
from cog.runtime._messages import (
    Cancel,
    CheckHealth,
    HealthResult,
    Loaded,
    RunJob,
    SetupDone,
)
from cog.runtime._pipe import BlockingReader, BlockingWriter
from cog.runtime._weights import weights_argument
from cog.runtime._worker_run import AsyncRunner, SyncRunner

from cog._signature.model import Mode, Signature


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cog.runtime.worker")
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--write-fd", type=int, required=True)
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--mode", choices=[m.value for m in Mode], required=True)
    parser.add_argument("--weights", default=None)
    return parser.parse_args(argv)


def _load(args: argparse.Namespace) -> tuple[Signature, object]:
    from cog._signature.introspect import load_entrypoint, signature_of  # noqa: PLC0415

    obj = load_entrypoint(pathlib.Path(args.project_dir), args.ref)
    signature = signature_of(obj, Mode(args.mode))
    return signature, obj


def _setup(signature: Signature, obj: object, args: argparse.Namespace) -> object:
    from cog._signature.introspect import entry_method  # noqa: PLC0415

    if not signature.is_class or not isinstance(obj, type):
        return entry_method(obj, Mode(args.mode))
    instance = obj()
    setup = getattr(instance, "setup", None)
    if callable(setup):
        kwargs: dict[str, Any] = {}
        if signature.setup_takes_weights:
            kwargs["weights"] = weights_argument(setup, args.weights, args.project_dir)
        result = setup(**kwargs)
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
    return instance


async def _await(awaitable: Any) -> None:
    await awaitable


def _has_healthcheck(obj: object) -> bool:
    """Only a healthcheck() the user wrote is worth a round trip per health request."""
    from cog._sdk.predictor import user_method_owner  # noqa: PLC0415

    if not isinstance(obj, type):
        return False
    return user_method_owner(obj, "healthcheck") is not None


def _healthcheck(instance: object) -> HealthResult:
    check = getattr(instance, "healthcheck", None)
    if not callable(check):
        return HealthResult(ok=True)
    try:
        result = check()
        if inspect.isawaitable(result):
            result = asyncio.run(_await_value(result))
    except Exception as exc:  # noqa: BLE001 (reported to the health endpoint)
        return HealthResult(ok=False, error=f"healthcheck raised {type(exc).__name__}: {exc}")
    if result is False:
        return HealthResult(ok=False, error="healthcheck returned False")
    return HealthResult(ok=True)


async def _await_value(awaitable: Any) -> object:
    return await awaitable


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    writer = BlockingWriter(args.write_fd)
    reader = BlockingReader(args.read_fd)
    capture = Capture(writer.send)
    os.chdir(args.project_dir)
    try:
        signature, obj = _load(args)
    except BaseException as exc:  # noqa: BLE001 (the import error is the setup failure)
        traceback.print_exc()
        capture.finish(None)
        writer.send(Loaded(None, f"{type(exc).__name__}: {exc}"))
        return
    writer.send(Loaded(signature))
    # Cancellation arrives as SIGUSR1 from our own control thread; block it until a
    # prediction is actually running.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        target = _setup(signature, obj, args)
    except BaseException as exc:  # noqa: BLE001 (reported as SETUP_FAILED with the logs)
        traceback.print_exc()
        capture.finish(None)
        writer.send(SetupDone(f"{type(exc).__name__}: {exc}"))
        return
    capture.finish(None)
    writer.send(SetupDone(None, has_healthcheck=_has_healthcheck(obj)))
    from cog._signature.introspect import entry_method  # noqa: PLC0415

    method = entry_method(target, Mode(args.mode)) if isinstance(obj, type) else target
    runner: SyncRunner | AsyncRunner
    if signature.is_async:
        runner = AsyncRunner(signature, method, writer, capture)
    else:
        runner = SyncRunner(signature, method, writer, capture)
    threading.Thread(
        target=_control, args=(reader, runner, writer, target), name="cog-control", daemon=True
    ).start()
    runner.serve()


def _control(
    reader: BlockingReader, runner: SyncRunner | AsyncRunner, writer: BlockingWriter, target: object
) -> None:
    """Read the supervisor's messages; at end of stream the worker exits at once."""
    while True:
        message = reader.receive()
        if message is None:
            os._exit(0)
        if isinstance(message, RunJob):
            runner.submit(message)
        elif isinstance(message, Cancel):
            runner.cancel(message.id)
        elif isinstance(message, CheckHealth):
            threading.Thread(target=lambda: writer.send(_healthcheck(target)), daemon=True).start()


if __name__ == "__main__":
    main()
