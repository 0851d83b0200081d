"""serve(): Hypercorn's trio worker in front of the application, the pools beside it."""

from __future__ import annotations

import gc
import logging
import math
import signal
import sys
import urllib.parse
from collections.abc import Callable

import trio
from hypercorn.config import Config

from cog.runtime._service import Service
from cog.runtime._spawn import Prestarted
from cog.runtime.settings import Settings

log = logging.getLogger("cog.runtime")

# After the shutdown grace, canceled predictions get cancel_grace to stop (then their
# worker is killed) and this much more for their responses to go out.
CANCEL_MARGIN = 2.0


def _hypercorn_config(settings: Settings) -> Config:
    from hypercorn.config import Config  # noqa: PLC0415

    config = Config()
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    config.bind = [f"{host}:{settings.port}"]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # once, through logging
    # Running predictions are drained before Hypercorn is told to stop; this only bounds
    # idle keep-alive connections a client left open.
    config.graceful_timeout = 2.0
    config.keep_alive_timeout = 75.0
    # Hypercorn closes a connection after 1000 requests by default; orchestrators keep
    # one connection per model for its whole life.
    config.keep_alive_max_requests = 2**31
    config.h11_max_incomplete_size = 64 * 1024
    return config


async def serve(
    settings: Settings,
    prestarted: Prestarted | None = None,
    *,
    stop_requested: Callable[[], bool] | None = None,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve until POST /shutdown (or SIGTERM), draining running predictions first.

    ``task_status.started`` receives the bound port once the socket accepts connections.
    ``prestarted``: the first worker, already started (cog.runtime._spawn.prestart).
    ``stop_requested``: whether a SIGTERM/SIGINT came before this function's own handler
    was installed (python -m cog.runtime handles them from its first moment).
    """
    service = Service(settings, settings.python or sys.executable, prestarted)
    shutdown = trio.Event()
    http_stop = trio.Event()
    async with trio.open_nursery() as nursery:
        if settings.handle_signals:
            # First of all: a SIGTERM during startup must stop the workers too.
            await nursery.start(_signals, settings, shutdown, stop_requested)
        # Workers start first: they import the model while we import the HTTP stack.
        await nursery.start(service.run)
        from hypercorn.trio import run as hypercorn_run  # noqa: PLC0415
        from hypercorn.trio import serve as hypercorn_serve  # noqa: PLC0415

        from cog.runtime._app import Application  # noqa: PLC0415
        from cog.runtime._tcp import FastTCPServer  # noqa: PLC0415

        # worker_serve builds one TCPServer per connection by this module-level name.
        hypercorn_run.TCPServer = FastTCPServer  # type: ignore[attr-defined]

        app = Application(service, shutdown.set)

        async def http(*, task_status: trio.TaskStatus[list[str]]) -> None:
            await hypercorn_serve(
                app, _hypercorn_config(settings), shutdown_trigger=http_stop.wait,
                task_status=task_status,
            )  # fmt: skip
            service.stop()
            nursery.cancel_scope.cancel()

        if shutdown.is_set():  # stopped before serving: nothing to drain
            log.info("shutting down before the server started")
            service.stop()
            nursery.cancel_scope.cancel()
            return
        urls: list[str] = await nursery.start(http)
        if not gc.isenabled():  # python -m cog.runtime turned it off for startup
            gc.freeze()  # what startup built lives as long as the server: never walk it
            gc.enable()
        if settings.ready_file is not None:
            from cog.runtime._readiness import maintain  # noqa: PLC0415

            nursery.start_soon(maintain, service, settings.ready_file)
        nursery.start_soon(_drain, settings, service, shutdown, http_stop)
        nursery.start_soon(app.load_quart)
        port = urllib.parse.urlsplit(urls[0]).port if urls else settings.port
        log.info("serving on %s", ", ".join(urls))
        task_status.started(port or settings.port)


async def _drain(
    settings: Settings, service: Service, shutdown: trio.Event, http_stop: trio.Event
) -> None:
    await shutdown.wait()
    # Admission checks this flag and starts the prediction with no await in between, so
    # nothing new starts from here on.
    service.stop_accepting()
    grace = settings.shutdown_grace
    limit = "" if grace is None else f", COG_SHUTDOWN_GRACE={grace:g}s"
    log.info("shutting down: refusing new predictions (%d running%s)", service.running, limit)
    with trio.move_on_after(math.inf if grace is None else grace):
        await service.idle.wait()
    if not service.idle.is_set():
        if service.running:
            log.warning(
                "shutting down: COG_SHUTDOWN_GRACE=%gs passed; canceling %d running predictions",
                grace,
                service.running,
            )
            service.cancel_all()
        # Canceled predictions get cancel_grace, and their webhooks a little more.
        with trio.move_on_after(settings.cancel_grace + CANCEL_MARGIN):
            await service.idle.wait()
    http_stop.set()


async def _signals(
    settings: Settings,
    shutdown: trio.Event,
    stop_requested: Callable[[], bool] | None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        task_status.started()
        if stop_requested is not None and stop_requested():
            shutdown.set()
        async for signum in signals:
            if signum == signal.SIGTERM and settings.await_explicit_shutdown:
                log.info("SIGTERM ignored: --await-explicit-shutdown waits for POST /shutdown")
                continue
            shutdown.set()
