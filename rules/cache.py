"""A content-addressed cache shared by every build on this machine.

Layout under the root:

- ``blobs/sha256/<hex>``: fetched files and built layer blobs, named by their content.
- ``layers/<key>.json``: a built layer (its gzip blob digest, diff_id, size), keyed by the
  digest of everything that went into it, so an unchanged layer is never rebuilt.
- ``files/<hex>.json``: memo of a project file's sha256 by (device, inode, size, mtime), so
  a no-op rebuild does not re-read gigabytes of weights.
- ``tmp/``: partial writes. A temp file is only ever renamed into ``blobs/`` after its
  digest was checked, so a build killed at any moment leaves nothing that could be taken
  for a blob; the next build starts the write again.

Two builds may run at once: renames are atomic and two writers of the same blob write the
same bytes, so whichever rename lands last changes nothing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from cog.errors import FetchError
from cog.rules._files import atomic_write, default_cache_root
from cog.rules.oci import MEDIA_LAYER_GZIP

_HEX = frozenset("0123456789abcdef")
_STALE_TEMP_S = 24 * 3600


def _check_hex(sha256: str) -> str:
    if len(sha256) != 64 or not set(sha256) <= _HEX:
        raise ValueError(f"not a sha256 hex digest: {sha256!r}")
    return sha256


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class LayerRecord:
    """A layer blob in the cache: what an image manifest and config need to name it."""

    digest: str  # sha256 hex of the gzip blob
    diff_id: str  # sha256 hex of the uncompressed tar
    size: int  # bytes of the gzip blob
    description: str  # for the image history
    media_type: str = MEDIA_LAYER_GZIP


class BlobWriter:
    """Streams bytes into a temp file in the cache, hashing them as they pass."""

    def __init__(self, handle: BinaryIO, temp: Path) -> None:
        self._handle = handle
        self.temp = temp
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._hash.update(data)
        self.size += len(data)
        return self._handle.write(data)

    def flush(self) -> None:
        self._handle.flush()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


class Cache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = (root or default_cache_root()).resolve()
        self._blobs = self.root / "blobs" / "sha256"
        self._layers = self.root / "layers"
        self._files = self.root / "files"
        self._rootfs = self.root / "rootfs"
        self.tmp = self.root / "tmp"
        for d in (self._blobs, self._layers, self._files, self._rootfs, self.tmp):
            d.mkdir(parents=True, exist_ok=True)

    # blobs

    def blob_path(self, sha256: str) -> Path | None:
        path = self._blobs / _check_hex(sha256)
        return path if path.is_file() else None

    @contextlib.contextmanager
    def writer(
        self, expected_sha256: str | None = None, *, what: str = "blob"
    ) -> Iterator[BlobWriter]:
        """Write a blob; on a clean exit it is verified and renamed into place.

        ``what`` names the file in the error raised when ``expected_sha256`` differs.
        On any exception the temp file is removed and nothing enters the cache.
        """
        temp = self.tmp / f"{os.getpid()}-{secrets.token_hex(8)}.partial"
        handle = temp.open("xb")
        blob = BlobWriter(handle, temp)
        try:
            yield blob
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            actual = blob.hexdigest()
            if expected_sha256 is not None and actual != expected_sha256:
                raise FetchError(
                    f"{what}: sha256 {actual} does not match the expected {expected_sha256}",
                    "The file changed at its source or was corrupted in transit; "
                    "run `cog lock --upgrade` if the new file is intended.",
                )
            os.replace(temp, self._blobs / actual)
            _fsync_dir(self._blobs)
        except OSError as err:
            if err.errno == errno.ENOSPC and err.filename is None:
                # A write says only "No space left on device": name where.
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.root)) from err
            raise
        finally:
            with contextlib.suppress(OSError):  # on a full disk, closing fails too
                handle.close()
            temp.unlink(missing_ok=True)

    def put_file(self, src: Path, sha256: str | None = None) -> Path:
        """Copy ``src`` into the cache (verifying ``sha256`` when given); return the blob."""
        if sha256 is not None and (existing := self.blob_path(sha256)):
            return existing
        with src.open("rb") as f, self.writer(sha256, what=str(src)) as w:
            shutil.copyfileobj(f, w, 1 << 20)
        return self._blobs / w.hexdigest()

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if self.blob_path(digest) is None:
            with self.writer(digest) as w:
                w.write(data)
        return digest

    # layers

    def get_layer(self, key: str) -> LayerRecord | None:
        path = self._layers / f"{_check_hex(key)}.json"
        try:
            record = LayerRecord(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError):
            # A record from an older format: rebuild the layer rather than trust it.
            return None
        return record if self.blob_path(record.digest) else None

    def put_layer(self, key: str, record: LayerRecord) -> None:
        self._write_json_atomic(self._layers / f"{_check_hex(key)}.json", asdict(record))

    # unpacked root filesystems (to run the image's interpreter from the host)

    def rootfs(self, key: str) -> Path | None:
        path = self._rootfs / _check_hex(key)
        return path if path.is_dir() else None

    def put_rootfs(self, key: str, staged: Path) -> Path:
        """Move a fully unpacked tree into place; another build's copy wins if it is there."""
        target = self._rootfs / _check_hex(key)
        try:
            os.rename(staged, target)
        except OSError:
            if not target.is_dir():
                raise
            shutil.rmtree(staged, ignore_errors=True)
        return target

    # project file digests

    def file_sha256(self, path: Path) -> str:
        """sha256 of a file, memoised by its identity and modification time (as git does)."""
        st = path.stat()
        ident = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{path.resolve()}"
        memo = self._files / f"{hashlib.sha256(ident.encode()).hexdigest()}.json"
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            return str(json.loads(memo.read_text())["sha256"])
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digest = h.hexdigest()
        # A file modified within the mtime granularity could change again unseen: only
        # memoise files that have been still for a while.
        if time.time_ns() - st.st_mtime_ns > 2_000_000_000:
            self._write_json_atomic(memo, {"sha256": digest})
        return digest

    # housekeeping

    def temp_dir(self, prefix: str) -> Path:
        """A private scratch directory on the cache's filesystem (caller removes it)."""
        path = self.tmp / f"{prefix}-{os.getpid()}-{secrets.token_hex(6)}"
        path.mkdir()
        return path

    def sweep_stale_temps(self) -> None:
        """Remove temp files left by killed builds (old enough that no build still owns them)."""
        cutoff = time.time() - _STALE_TEMP_S
        for entry in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if entry.lstat().st_mtime < cutoff:
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink()

    def _write_json_atomic(self, path: Path, obj: object) -> None:
        atomic_write(path, json.dumps(obj, sort_keys=True).encode())
