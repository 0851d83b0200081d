"""The lock's on-disk cache: parsed Debian indexes and remembered wheel URLs.

Same root as the build cache (COG_CACHE_DIR, else $XDG_CACHE_HOME/cog, else
~/.cache/cog). Every write goes to a temp file in the same folder, then is renamed, so
two processes never see half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_root() -> Path:
    if os.environ.get("COG_CACHE_DIR"):
        return Path(os.environ["COG_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "cog"
    return Path.home() / ".cache" / "cog"


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
