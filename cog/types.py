"""``cog.types``: the reference's public module of value types (same objects as ``cog.*``)."""

from __future__ import annotations

from cog._sdk.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Path,
    Secret,
    URLFile,
    URLPath,
    get_filename,
)

__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "get_filename",
]
