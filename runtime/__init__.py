"""The HTTP server that runs inside every image. Installed as ``cog.runtime``.

``serve(settings)`` runs it under Trio; ``python -m cog.runtime`` is the image's command;
``serve_local`` backs ``cog serve --local``. The server's modules load on first use, so a
worker process (``cog.runtime.worker``) does not pay for Hypercorn and Quart.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cog.runtime.settings import Settings

if TYPE_CHECKING:
    from cog.runtime._server import serve

__all__ = ["Settings", "serve", "serve_local"]


def __getattr__(name: str) -> object:
    if name == "serve":
        from cog.runtime._server import serve  # noqa: PLC0415

        return serve
    raise AttributeError(f"module 'cog.runtime' has no attribute {name!r}")


def serve_local(project_dir: Path, host: str, port: int, upload_url: str | None) -> None:
    """Serve the project in ``project_dir`` with this Python environment (blocks until shutdown)."""
    import logging  # noqa: PLC0415

    import trio  # noqa: PLC0415

    from cog.runtime._server import serve  # noqa: PLC0415

    settings = Settings.from_env_and_args(
        host=host, port=port, upload_url=upload_url, project_dir=Path(project_dir)
    )
    logging.basicConfig(level=settings.log_level, format="%(levelname)s %(name)s: %(message)s")
    trio.run(serve, settings)
