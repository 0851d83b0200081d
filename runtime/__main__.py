"""``python -m cog.runtime``: the command every image runs, in the model's directory."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType

from cog._paths import RUNTIME_SITE

# The runtime's own dependencies live apart from the model's (cog build installs them in
# RUNTIME_SITE): first on this process's path, never on a worker's (the workers are
# started with the interpreter's default path: the model's packages and the SDK).
if os.path.isdir(RUNTIME_SITE) and RUNTIME_SITE not in sys.path:
    sys.path.insert(0, RUNTIME_SITE)


class _Stop(BaseException):  # not an error: the orchestrator said stop
    pass


class _EarlySignals:
    """SIGTERM and SIGINT until the server's own handler (in serve) takes over.

    Installed before anything slow, so that a stop in the first moments still stops the
    worker(s) and exits 0. Before trio runs it raises, and main() cleans up; once trio
    runs it only records the signal, which serve() then acts on.
    """

    def __init__(self) -> None:
        self.raising = True
        self.ignore_term = False  # --await-explicit-shutdown
        self.received = False

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGTERM and self.ignore_term:
            return
        self.received = True
        if self.raising:
            raise _Stop

    def stop_requested(self) -> bool:
        return self.received


_early = _EarlySignals()
signal.signal(signal.SIGTERM, _early)
signal.signal(signal.SIGINT, _early)

import argparse  # noqa: E402 (after the signal handlers, on purpose)
import functools  # noqa: E402
import gc  # noqa: E402

from cog.errors import CogError  # noqa: E402
from cog.runtime import _spawn  # noqa: E402
from cog.runtime.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    # Startup allocates a great many long-lived objects (imports) and frees few: the
    # cyclic collector would only walk them again and again. serve() turns it back on.
    gc.disable()
    parser = argparse.ArgumentParser(prog="python -m cog.runtime")
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 (serve the container's port)
    parser.add_argument("--port", type=int, default=None, help="default: $PORT, else 5000")
    parser.add_argument("--upload-url", default=None)
    parser.add_argument("--await-explicit-shutdown", action="store_true")
    args = parser.parse_args(argv)
    _early.ignore_term = args.await_explicit_shutdown
    started: list[_spawn.Prestarted] = []
    try:
        settings, prestarted = _prepare(args, started)
        import trio  # noqa: PLC0415

        from cog.runtime._server import serve  # noqa: PLC0415
    except _Stop:
        for worker in started:
            _spawn.discard(worker)
        sys.stderr.write("cog.runtime: stopped by a signal before the server started\n")
        raise SystemExit(0) from None
    except BaseException:
        for worker in started:
            _spawn.discard(worker)
        raise
    _early.raising = False  # from here on serve() acts on what _early records
    trio.run(functools.partial(serve, settings, prestarted, stop_requested=_early.stop_requested))


def _prepare(
    args: argparse.Namespace, started: list[_spawn.Prestarted]
) -> tuple[Settings, _spawn.Prestarted | None]:
    """Validated settings, and the first worker (``started`` holds what runs meanwhile)."""
    # The first worker starts importing the model now, while we validate cog.yaml and
    # import the HTTP stack; kept only if the validated settings want that very worker.
    early = _spawn.prestart_early()
    if early is not None:
        started.append(early)
    try:
        settings = Settings.from_env_and_args(
            host=args.host,
            port=args.port,
            upload_url=args.upload_url,
            await_explicit_shutdown=args.await_explicit_shutdown,
        )
    except CogError as exc:  # cog.yaml is invalid: say where and how to fix it
        started.clear()
        _spawn.confirm(early, None)
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    import logging  # noqa: PLC0415

    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if not settings.predict_ref and not settings.train_ref:
        logging.getLogger("cog.runtime").error(
            "no model to serve: cog.yaml in %s names no run:/predict: or train:",
            settings.project_dir,
        )
    started.clear()
    if settings.setup_error is not None:  # nothing to run: /health-check says why
        _spawn.confirm(early, None)
        return settings, None
    prestarted = _spawn.confirm(early, settings)
    if prestarted is not None:
        started.append(prestarted)
    else:
        prestarted = _spawn.prestart(settings)
        if prestarted is not None:
            started.append(prestarted)
    return settings, prestarted


if __name__ == "__main__":
    main()
