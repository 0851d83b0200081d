"""A layer blob read as its uncompressed tar: both digests checked, every size bounded.

The blob's own digest and size come from the manifest, its uncompressed digest (diff_id)
from the image config; nothing else vouches for either. Both are recomputed from the bytes
as they stream past, and the uncompressed size is capped, so a gzip or zstd bomb is
refused before it fills the disk (see :class:`UnpackLimits`).
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO

from cog.errors import RunError
from cog.rules import zstd

GiB = 1024**3
DEFAULT_MAX_UNPACKED_BYTES = 64 * GiB
DEFAULT_MAX_UNPACK_RATIO = 100
RATIO_FLOOR_BYTES = GiB  # a small layer may always unpack to this much
MAX_HEADER_BYTES = 16 * 1024 * 1024  # a pax or GNU long-name header tarfile holds in memory
CHUNK = 1024 * 1024


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise RunError(f"{name}={raw!r} is not a positive whole number")
    return value


@dataclass(frozen=True)
class UnpackLimits:
    """How far an image may expand when unpacked.

    ``total``: uncompressed bytes for the whole image (``COG_MAX_UNPACKED_BYTES``, default
    64 GiB: more than any model image we know of, less than a disk). ``ratio``: one layer
    may expand to ``ratio`` times its compressed size, or 1 GiB when that is more
    (``COG_MAX_UNPACK_RATIO``, default 100). Real layers compress 2-10x; deflate's ceiling
    is about 1030x, so a bomb is refused after at most 100x its own size.
    """

    total: int = DEFAULT_MAX_UNPACKED_BYTES
    ratio: int = DEFAULT_MAX_UNPACK_RATIO

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnpackLimits:
        env = os.environ if env is None else env
        return cls(
            total=_env_int(env, "COG_MAX_UNPACKED_BYTES", DEFAULT_MAX_UNPACKED_BYTES),
            ratio=_env_int(env, "COG_MAX_UNPACK_RATIO", DEFAULT_MAX_UNPACK_RATIO),
        )

    def for_layer(self, compressed_size: int, used: int) -> int:
        return max(0, min(self.total - used, max(RATIO_FLOOR_BYTES, compressed_size * self.ratio)))

    def hint(self) -> str:
        return (
            "A layer this much larger than its compressed size looks like a decompression "
            "bomb, so nothing was unpacked. If the image is genuine, raise "
            f"COG_MAX_UNPACK_RATIO (now {self.ratio}) or COG_MAX_UNPACKED_BYTES "
            f"(now {self.total})."
        )


class _Digesting:
    """The raw blob, hashed as it is read and never read past its descriptor's size."""

    def __init__(self, raw: BinaryIO, size: int, what: str) -> None:
        self._raw, self._size, self._what = raw, size, what
        self.hash = hashlib.sha256()
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._raw.read(n if n > 0 else CHUNK)
        self.count += len(data)
        if self.count > self._size:
            raise RunError(
                f"{self._what} is larger than the {self._size} bytes its manifest says",
                "The image layout was altered or damaged; pull or build the image again.",
            )
        self.hash.update(data)
        return data


class _Gunzip:
    """Streaming gzip (every member, zero padding between) with output in bounded pieces."""

    def __init__(self, raw: _Digesting, what: str) -> None:
        self._raw, self._what = raw, what
        self._z = zlib.decompressobj(wbits=31)
        self._pending = b""

    def _fail(self, why: str) -> RunError:
        return RunError(f"{self._what} is not valid gzip: {why}", "Pull or build it again.")

    def _next_member(self) -> bool:
        rest = self._z.unused_data
        while not (rest := rest.lstrip(b"\0")):
            rest = self._raw.read(CHUNK)
            if not rest:
                return False
        self._z = zlib.decompressobj(wbits=31)
        self._pending = rest
        return True

    def read(self, n: int = -1) -> bytes:
        n = n if n > 0 else CHUNK
        while True:
            if self._z.eof and not self._next_member():
                return b""
            data = self._z.unconsumed_tail or self._pending or self._raw.read(CHUNK)
            self._pending = b""
            try:
                out = self._z.decompress(data, n)
            except zlib.error as err:
                raise self._fail(str(err)) from err
            if out:
                return out
            if not data and not self._z.eof:
                raise self._fail("it ends before its end-of-stream marker")


class LayerStream:
    """``read()`` gives the layer's tar; :meth:`verify` drains the rest and checks it all."""

    def __init__(
        self, raw: BinaryIO, *, digest: str, size: int, diff_id: str | None, limit: int
    ) -> None:
        self.what = f"layer {digest}"
        self._digest, self._diff_id, self._limit = digest, diff_id, limit
        self._blob = _Digesting(raw, size, f"layer blob {digest}")
        head = raw.read(len(zstd.MAGIC))
        raw.seek(0)
        self._source: _Digesting | _Gunzip | zstd.ZstdReader = self._blob
        if head[:2] == b"\x1f\x8b":
            self._source = _Gunzip(self._blob, self.what)
        elif head == zstd.MAGIC:
            # zstd reads the blob (hashed and bounded by _Digesting) in its feeder thread.
            self._source = zstd.ZstdReader(self._blob, self.what, _invalid, RunError)
        self._hash = hashlib.sha256()
        self.count = 0  # uncompressed bytes read from the blob
        self.pos = 0  # bytes handed to the reader
        self._buf, self._offset = b"", 0

    def _fill(self) -> bytes:
        data = self._source.read(CHUNK)
        self.count += len(data)
        if self.count > self._limit:
            raise BombError(f"{self.what} unpacks to more than {self._limit} bytes")
        self._hash.update(data)
        return data

    def read(self, n: int = -1) -> bytes:
        """Exactly ``n`` bytes (fewer only at the end), as tarfile expects of a file."""
        n = n if n >= 0 else CHUNK
        buf, offset = self._buf, self._offset
        if len(buf) - offset >= n:  # the common case: a header, or a piece of a file
            self._offset = offset + n
            self.pos += n
            return buf[offset : offset + n]
        parts, take = [buf[offset:]], 0
        got = len(parts[0])
        while got < n:
            buf = self._fill()
            if not buf:
                break
            take = min(n - got, len(buf))
            parts.append(buf[:take] if take < len(buf) else buf)
            got += take
        self._buf, self._offset = (buf, take) if got == n and buf else (b"", 0)
        self.pos += got
        return b"".join(parts)

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = os.SEEK_SET) -> int:
        """Forward only: tarfile skips what it does not read (link and directory data)."""
        if whence != os.SEEK_SET or pos < self.pos:
            raise RunError(f"{self.what}: tar reader seeked backwards (to {pos} from {self.pos})")
        while pos > self.pos and self.read(min(CHUNK, pos - self.pos)):
            pass
        return self.pos

    def charge(self, nbytes: int) -> None:
        """Count file data that is not in the stream (a sparse file's holes)."""
        if nbytes > self._limit:
            raise BombError(
                f"{self.what} unpacks to more than {self._limit} bytes "
                f"(it holds a file of {nbytes})"
            )

    def close(self) -> None:
        """Stop a decompressor that is still running (a refused layer is read no further)."""
        if isinstance(self._source, zstd.ZstdReader):
            self._source.close()

    def verify(self) -> int:
        """Read to the end, check both digests; the uncompressed size."""
        self._buf, self._offset = b"", 0
        while self._fill():
            pass
        while self._blob.read(CHUNK):  # whatever follows the last gzip member
            pass
        blob = "sha256:" + self._blob.hash.hexdigest()
        if blob != self._digest:
            raise RunError(
                f"layer blob {self._digest} has digest {blob}",
                "The image layout was altered or damaged; pull or build the image again.",
            )
        actual = "sha256:" + self._hash.hexdigest()
        if self._diff_id is not None and actual != self._diff_id:
            raise RunError(
                f"{self.what} unpacks to {actual}, but the image config says its diff_id "
                f"is {self._diff_id}; nothing from this image was cached",
                "The image is inconsistent or forged: do not run it. Rebuild it, or ask "
                "its publisher.",
            )
        return self.count


def _invalid(message: str) -> RunError:
    return RunError(message, "Pull or build it again.")


class BombError(RunError):
    """A layer expands past its limits."""


class BoundedTarInfo(tarfile.TarInfo):
    """Refuses pax and GNU long-name headers that tarfile would read whole into memory."""

    def _proc_member(self, archive: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in _HEADER_TYPES and self.size > MAX_HEADER_BYTES:
            raise tarfile.HeaderError(f"a {self.size}-byte extended header")
        return super()._proc_member(archive)  # type: ignore[misc,no-any-return]


_HEADER_TYPES = (
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
)
