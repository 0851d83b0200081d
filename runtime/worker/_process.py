"""A worker process: imports the model, runs setup(), then runs predictions on request.

Started fresh by the supervisor as ``python -m cog.runtime.worker`` (``__main__.py``), never
forked from the server; talks to it only through two pipes whose descriptors are on the
command line.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import inspect
import os
import pathlib
import select
import signal
import sys
import threading
import traceback
from typing import Any

from cog._signature.model import Mode, Signature
from cog.runtime._messages import (
    Cancel,
    CheckHealth,
    HealthResult,
    Importing,
    Loaded,
    RunJob,
    SetupDone,
    printable,
)
from cog.runtime._pipe import BlockingReader, BlockingWriter
from cog.runtime.worker._capture import Capture
from cog.runtime.worker._concurrency import concurrent_max
from cog.runtime.worker._encode import keep_files_under
from cog.runtime.worker._runners import AsyncRunner, SyncRunner
from cog.runtime.worker._weights import weights_argument


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cog.runtime.worker")
    parser.add_argument("--read-fd", type=int, required=True)
    parser.add_argument("--jobs-fd", type=int, required=True)  # a sync model's jobs
    parser.add_argument("--write-fd", type=int, required=True)
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--ref", required=True)
    parser.add_argument("--mode", choices=[m.value for m in Mode], required=True)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    return parser.parse_args(argv)


PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int | None, control_fd: int) -> None:
    """Make sure this worker never outlives the supervisor that started it.

    On Linux the kernel sends SIGKILL when the parent dies (PR_SET_PDEATHSIG): it works
    whatever the model is doing, even inside a C call that holds the GIL. The parent may
    have died before we got here, so its pid is checked afterwards. Elsewhere a thread
    waits for the supervisor's end of the control pipe to close.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if parent is not None and os.getppid() != parent:
        os._exit(1)  # our supervisor is already gone
    if not armed:
        threading.Thread(
            target=watch_control_pipe, args=(control_fd,), name="cog-parent", daemon=True
        ).start()


def watch_control_pipe(fd: int) -> None:
    """Exit once every writer of ``fd`` is gone (POLLHUP), without reading from it."""
    poller = select.poll()
    poller.register(fd, 0)  # no events asked for: only hang-up and errors come back
    while True:
        for _, events in poller.poll():
            if events & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                os._exit(0)


def _load(args: argparse.Namespace) -> tuple[Signature, object]:
    from cog._signature.introspect import load_entrypoint, signature_of  # noqa: PLC0415

    obj = load_entrypoint(pathlib.Path(args.project_dir), args.ref)
    signature = signature_of(obj, Mode(args.mode))
    return signature, obj


def _setup_call(signature: Signature, target: object, args: argparse.Namespace) -> object:
    """Run the model's setup(), if it has one; an async setup's coroutine is returned."""
    setup = getattr(target, "setup", None) if signature.is_class else None
    if not callable(setup):
        return None
    kwargs: dict[str, Any] = {}
    if signature.setup_takes_weights:
        kwargs["weights"] = weights_argument(setup, args.weights, args.project_dir)
    return setup(**kwargs)


HEALTHCHECK_FALSE = "Healthcheck failed: user-defined healthcheck returned False"


def _has_healthcheck(obj: object) -> bool:
    """Only a healthcheck() the user wrote is worth a round trip per health request."""
    from cog._sdk.runner import user_method_owner  # noqa: PLC0415

    if not isinstance(obj, type):
        return False
    return user_method_owner(obj, "healthcheck") is not None


def _healthcheck(instance: object, loop: asyncio.AbstractEventLoop | None) -> HealthResult:
    check = getattr(instance, "healthcheck", None)
    if not callable(check):
        return HealthResult(ok=True)
    try:
        result = check()
        if inspect.isawaitable(result):
            if loop is not None:  # an async model: on its own loop, like its predictions
                result = asyncio.run_coroutine_threadsafe(_await_value(result), loop).result()
            else:
                result = asyncio.run(_await_value(result))
    except Exception as exc:  # noqa: BLE001 (reported to the health endpoint)
        return HealthResult(ok=False, error=f"Healthcheck failed: {type(exc).__name__}: {exc}")
    if result is False:  # the reference's words
        return HealthResult(ok=False, error=HEALTHCHECK_FALSE)
    return HealthResult(ok=True)


async def _await_value(awaitable: Any) -> object:
    return await awaitable


def main(argv: list[str] | None = None) -> None:
    args = _parse(sys.argv[1:] if argv is None else argv)
    die_with_parent(args.parent_pid, args.read_fd)
    writer = BlockingWriter(args.write_fd)
    reader = BlockingReader(args.read_fd)
    capture = Capture(writer.send)
    os.chdir(args.project_dir)
    keep_files_under(args.project_dir)
    writer.send(Importing())
    try:
        signature, obj = _load(args)
    except BaseException as exc:  # noqa: BLE001 (the import error is the setup failure)
        traceback.print_exc()
        capture.finish(None)
        writer.send(Loaded(None, printable(f"{type(exc).__name__}: {exc}")))
        return
    writer.send(Loaded(signature, concurrency=concurrent_max(obj, Mode(args.mode))))
    # Cancellation arrives as SIGUSR1 from our own control thread; block it until a
    # prediction is actually running.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    from cog._signature.introspect import entry_method  # noqa: PLC0415

    try:
        target = obj() if signature.is_class and isinstance(obj, type) else obj
        method = entry_method(target, Mode(args.mode))
    except BaseException as exc:  # noqa: BLE001 (reported as SETUP_FAILED with the logs)
        _setup_failed(exc, capture, writer)
        return
    runner: SyncRunner | AsyncRunner
    if signature.is_async:
        runner = AsyncRunner(signature, method, writer, capture)
    else:
        runner = SyncRunner(signature, method, writer, capture, jobs=BlockingReader(args.jobs_fd))

    def ready() -> None:
        capture.finish(None)
        writer.send(SetupDone(None, has_healthcheck=_has_healthcheck(obj)))
        threading.Thread(
            target=_control, args=(reader, runner, writer, target), name="cog-control", daemon=True
        ).start()

    runner.serve(
        setup=lambda: _setup_call(signature, target, args),
        ready=ready,
        failed=lambda exc: _setup_failed(exc, capture, writer),
    )


def _setup_failed(exc: BaseException, capture: Capture, writer: BlockingWriter) -> None:
    traceback.print_exception(exc)
    capture.finish(None)
    writer.send(SetupDone(printable(f"{type(exc).__name__}: {exc}")))


def _report_health(
    writer: BlockingWriter, target: object, loop: asyncio.AbstractEventLoop | None
) -> None:
    writer.send(_healthcheck(target, loop))


def _control(
    reader: BlockingReader, runner: SyncRunner | AsyncRunner, writer: BlockingWriter, target: object
) -> None:
    """Read the supervisor's messages; at end of stream the worker exits at once."""
    while True:
        message = reader.receive()
        if message is None:
            os._exit(0)
        if isinstance(message, RunJob):
            assert isinstance(runner, AsyncRunner)  # a sync model's come on the jobs pipe
            runner.submit(message)
        elif isinstance(message, Cancel):
            runner.cancel(message.id)
        elif isinstance(message, CheckHealth):
            loop = runner.loop if isinstance(runner, AsyncRunner) else None
            threading.Thread(
                target=_report_health, args=(writer, target, loop), daemon=True
            ).start()
