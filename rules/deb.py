"""Read .deb files in pure Python (no dpkg, no ar) and unpack them into a layer tree.

A .deb is an ``ar`` archive of ``debian-binary``, ``control.tar.*`` and ``data.tar.*``
(xz in bookworm; gz, zst and uncompressed are accepted too). Unpacking maps ``/bin``,
``/sbin``, ``/lib*`` into ``/usr`` (merged-/usr, as usrmerge or debootstrap would): the
top-level symlinks themselves are added by the rootfs fix-ups.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cog.errors import BuildError

from .tree import Tree, normalise
from .zstd import ZstdReader

_AR_MAGIC = b"!<arch>\n"
_AR_HEADER = 60
MERGED_DIRS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@dataclass(frozen=True)
class ArMember:
    name: str
    offset: int  # of the data, in the archive file
    size: int


class _Slice(io.RawIOBase):
    """A read-only window onto part of a file."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f, self._start, self._left = f, offset, size
        f.seek(offset)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        n = min(len(buffer), self._left)
        if n <= 0:
            return 0
        data = self._f.read(n)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def ar_members(f: BinaryIO, origin: str) -> list[ArMember]:
    f.seek(0)
    if f.read(len(_AR_MAGIC)) != _AR_MAGIC:
        raise BuildError(f"{origin} is not a Debian package (no ar header)")
    members: list[ArMember] = []
    offset = len(_AR_MAGIC)
    while True:
        f.seek(offset)
        header = f.read(_AR_HEADER)
        if not header:
            return members
        if len(header) < _AR_HEADER or header[58:60] != b"`\n":
            raise BuildError(f"{origin}: corrupt ar member header at byte {offset}")
        name = header[:16].decode("ascii").rstrip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        members.append(ArMember(name, offset + _AR_HEADER, size))
        offset += _AR_HEADER + size + (size & 1)


class DebFile:
    def __init__(self, path: Path, origin: str | None = None) -> None:
        self.path = path
        self.origin = origin or path.name
        with path.open("rb") as f:
            self._members = {m.name: m for m in ar_members(f, self.origin)}
        if "debian-binary" not in self._members:
            raise BuildError(f"{self.origin} is not a Debian package (no debian-binary member)")

    def _member(self, stem: str) -> ArMember:
        for name, member in self._members.items():
            if name == stem or name.startswith(stem + "."):
                return member
        raise BuildError(f"{self.origin} has no {stem}.* member")

    @contextlib.contextmanager
    def _open_tar(self, stem: str, f: BinaryIO) -> Iterator[tarfile.TarFile]:
        member = self._member(stem)
        raw = io.BufferedReader(_Slice(f, member.offset, member.size), 1 << 20)
        suffix = member.name[len(stem) :]
        if suffix == ".zst":
            with _zstd_tar(raw, self.origin) as tar:
                yield tar
            return
        modes = {"": "r|", ".xz": "r|xz", ".gz": "r|gz", ".bz2": "r|bz2"}
        if suffix not in modes:
            raise BuildError(f"{self.origin}: unsupported member compression {member.name}")
        with tarfile.open(fileobj=raw, mode=modes[suffix]) as tar:  # type: ignore[call-overload]
            yield tar

    def control(self) -> str:
        """The ``control`` file of the package (its stanza as dpkg's status would hold it)."""
        with self.path.open("rb") as f, self._open_tar("control.tar", f) as tar:
            for info in tar:
                if normalise(info.name) == "control" and info.isfile():
                    extracted = tar.extractfile(info)
                    assert extracted is not None
                    return extracted.read().decode("utf-8")
        raise BuildError(f"{self.origin} has no control file")

    def unpack_into(self, tree: Tree) -> None:
        with self.path.open("rb") as f, self._open_tar("data.tar", f) as tar:
            for info in tar:
                _unpack_member(tar, info, tree, self.origin)


@contextlib.contextmanager
def _zstd_tar(raw: BinaryIO, origin: str) -> Iterator[tarfile.TarFile]:
    what = f"{origin}: the data member"
    with ZstdReader(raw, what, BuildError, BuildError) as reader:
        with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
            yield tar
        while reader.read():  # to its end: zstd's verdict on the whole member
            pass


def map_merged_usr(path: str) -> str:
    head, _, rest = path.partition("/")
    if head in MERGED_DIRS:
        return f"usr/{head}/{rest}" if rest else f"usr/{head}"
    return path


def _unpack_member(tar: tarfile.TarFile, info: tarfile.TarInfo, tree: Tree, origin: str) -> None:
    path = map_merged_usr(normalise(info.name))
    if not path:
        return
    if info.isdir():
        tree.set_dir(path, info.mode, info.uid, info.gid)
    elif info.isreg():
        stream = tar.extractfile(info)
        assert stream is not None
        tree.add_stream(path, stream, info.mode, info.uid, info.gid)
    elif info.issym():
        tree.add_symlink(path, info.linkname, info.uid, info.gid)
    elif info.islnk():
        tree.add_hardlink(path, map_merged_usr(normalise(info.linkname)), info.uid, info.gid)
    else:
        raise BuildError(f"{origin}: unsupported member type for {info.name}")
