"""``python -m cog.runtime``: the command every image runs, in the model's directory."""

from __future__ import annotations

import argparse
import gc
import logging
import sys

from cog.runtime.settings import Settings

from cog.errors import CogError


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
    # The first worker starts importing the model now, while we validate cog.yaml and
    # import the HTTP stack; kept only if the validated settings want that very worker.
    from cog.runtime import _spawn  # noqa: PLC0415

    early = _spawn.prestart_early()
    try:
        settings = Settings.from_env_and_args(
            host=args.host,
            port=args.port,
            upload_url=args.upload_url,
            await_explicit_shutdown=args.await_explicit_shutdown,
        )
    except CogError as exc:  # cog.yaml is invalid: say where and how to fix it
        _spawn.confirm(early, None)
        sys.stderr.write(f"error: {exc}\n")
        raise SystemExit(1) from None
    except BaseException:
        _spawn.confirm(early, None)
        raise
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    if not settings.predict_ref and not settings.train_ref:
        logging.getLogger("cog.runtime").error(
            "no model to serve: cog.yaml in %s names no run:/predict: or train:",
            settings.project_dir,
        )
    prestarted = _spawn.confirm(early, settings) or _spawn.prestart(settings)
    import trio  # noqa: PLC0415
    from cog.runtime._server import serve  # noqa: PLC0415

    trio.run(serve, settings, prestarted)


if __name__ == "__main__":
    main()
