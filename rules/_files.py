"""Two facts every writer in this project shares: where the cache is, and how a file is
replaced so that no reader (or crash) ever sees half of it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path


def default_cache_root(env: Mapping[str, str] | None = None) -> Path:
    """COG_CACHE_DIR, else $XDG_CACHE_HOME/cog, else ~/.cache/cog (as the reference)."""
    env = os.environ if env is None else env
    if root := env.get("COG_CACHE_DIR"):
        return Path(root)
    if xdg := env.get("XDG_CACHE_HOME"):
        return Path(xdg) / "cog"
    return Path(env.get("HOME") or Path.home()) / ".cache" / "cog"


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``data``: a temporary file beside it, fsynced, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
