"""Deterministic layer tars: the same entries give the same bytes, tar and gzip alike.

Entries are written sorted by path, as PAX, with one fixed mtime (0, or SOURCE_DATE_EPOCH
when the caller passes it), numeric owners (0/0 unless the entry says otherwise, as a
.deb's ``/var/local`` 0/50 does), no user or group names, no atime/ctime. The gzip stream
has mtime 0 and no file name in its header, and is compressed on every core in fixed
blocks (``pgzip``), so its bytes do not depend on the machine. Contents stream from disk,
so memory stays bounded whatever the layer's size.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, cast

from .cache import BlobWriter, Cache, LayerRecord
from .pgzip import ParallelGzip

EntryKind = Literal["file", "dir", "symlink", "hardlink"]
GZIP_LEVEL = 6
_BUF = 1 << 20

_TYPES: dict[str, bytes] = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
}


@dataclass(frozen=True)
class Entry:
    """One member of a layer. ``path`` is relative to the image root, without ``./``."""

    path: str
    kind: EntryKind
    mode: int
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    source: Path | None = None  # file contents on disk
    data: bytes | None = None  # or inline (small generated files)

    def size(self) -> int:
        if self.kind != "file":
            return 0
        if self.data is not None:
            return len(self.data)
        assert self.source is not None, self.path
        return self.source.stat().st_size


def sort_key(path: str) -> tuple[str, ...]:
    # Component-wise, so a directory's members follow it directly ("a/b" before "a-b").
    return tuple(path.split("/"))


class _HashingSink:
    """Hashes and counts what the tar writer produces before passing it to gzip."""

    def __init__(self, inner: ParallelGzip) -> None:
        self._inner = inner
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.hash.update(data)
        self.size += len(data)
        self._inner.write(data)
        return len(data)


def _tarinfo(entry: Entry, mtime: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(entry.path)
    info.type = _TYPES[entry.kind]
    info.mode = entry.mode & 0o7777
    info.uid, info.gid = entry.uid, entry.gid
    info.uname = info.gname = ""
    info.mtime = mtime
    info.linkname = entry.linkname
    info.size = entry.size()
    return info


def write_tar(entries: Iterable[Entry], out: IO[bytes], *, mtime: int = 0) -> None:
    ordered = sorted(entries, key=lambda e: sort_key(e.path))
    seen: set[str] = set()
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT, bufsize=_BUF) as tar:
        for entry in ordered:
            if entry.path in seen:
                raise ValueError(f"duplicate layer entry {entry.path}")
            seen.add(entry.path)
            info = _tarinfo(entry, mtime)
            if entry.kind != "file":
                tar.addfile(info)
            elif entry.data is not None:
                tar.addfile(info, io.BytesIO(entry.data))
            else:
                assert entry.source is not None
                with entry.source.open("rb") as f:
                    tar.addfile(info, f)


def write_layer(
    entries: Iterable[Entry],
    cache: Cache,
    description: str,
    *,
    mtime: int = 0,
    level: int = GZIP_LEVEL,
) -> LayerRecord:
    """Write the entries as a gzip layer blob into the cache; return its record."""
    with cache.writer() as blob:
        diff_id = _write_gzip(entries, blob, mtime=mtime, level=level)
    return LayerRecord(
        digest=blob.hexdigest(), diff_id=diff_id, size=blob.size, description=description
    )


def _write_gzip(entries: Iterable[Entry], blob: BlobWriter, *, mtime: int, level: int) -> str:
    gz = ParallelGzip(blob, level)
    try:
        sink = _HashingSink(gz)
        # tarfile's stream mode buffers in _BUF blocks: the sink sees few, large writes.
        write_tar(entries, cast(IO[bytes], sink), mtime=mtime)
    except BaseException:
        gz.abort()
        raise
    gz.close()
    return sink.hash.hexdigest()
