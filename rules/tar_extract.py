"""Unpacking tar archives with PEP 706's guarantees on every Python cog runs on.

tarfile's extraction filters arrived in CPython 3.11.4; Debian 12's python3 is 3.11.2 and
has none, so ``extract(..., filter=...)`` is a TypeError there. Each member is checked here
against the rules below before tarfile writes it, and tarfile's own filter is applied too
where the interpreter has one (its ``"tar"`` filter alone lets a hard link point outside):

- ``"tar"`` (layers of a base image): leading ``/`` is dropped, a member that would land
  outside the destination (``..``, or through a symlink already unpacked) is refused, and
  setuid/setgid/sticky and group/other write bits are cleared. Symlinks may point anywhere,
  as a root filesystem's do; a hard link must stay inside.
- ``"data"`` (sdists, interpreter archives): as ``"tar"``, and links that are absolute or
  leave the destination are refused, as are devices and FIFOs; owners are not restored and
  a file's owner can always read and write it.
"""

from __future__ import annotations

import copy
import os
import stat
import tarfile
from pathlib import Path
from typing import Literal

Filter = Literal["tar", "data"]

_HAS_FILTERS = hasattr(tarfile, "data_filter")
_CLEARED = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWGRP | stat.S_IWOTH


class UnsafeMember(tarfile.TarError):
    """A member the filter refuses, named with the reason."""


def extract(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, kind: Filter) -> None:
    """Unpack one member under ``dest`` (which exists), or raise UnsafeMember."""
    checked = filtered(member, os.path.realpath(dest), kind)
    if not _HAS_FILTERS:
        tar.extract(checked, dest, set_attrs=True, numeric_owner=kind == "data")
        return
    try:
        tar.extract(checked, dest, filter=kind)
    except tarfile.FilterError as e:
        raise UnsafeMember(str(e)) from e


def extract_all(tar: tarfile.TarFile, dest: Path, kind: Filter) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for member in tar:
        extract(tar, member, dest, kind)


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def filtered(member: tarfile.TarInfo, root: str, kind: Filter) -> tarfile.TarInfo:
    """The member as PEP 706's filter of that name would pass it; ``root`` is realpath'd."""
    out = copy.copy(member)
    out.name = member.name.lstrip("/")
    if os.path.isabs(out.name) or not _inside(root, os.path.realpath(os.path.join(root, out.name))):
        raise UnsafeMember(f"{member.name!r} would be written outside the destination")
    if member.islnk() or (member.issym() and kind == "data"):
        if os.path.isabs(member.linkname) and kind == "data":
            raise UnsafeMember(f"{member.name!r} links to an absolute path, {member.linkname!r}")
        base = root if member.islnk() else os.path.dirname(os.path.join(root, out.name))
        if not _inside(root, os.path.realpath(os.path.join(base, member.linkname))):
            raise UnsafeMember(
                f"{member.name!r} links outside the destination: {member.linkname!r}"
            )
    if member.islnk():
        out.linkname = member.linkname.lstrip("/")
    if kind == "data" and (member.ischr() or member.isblk() or member.isfifo()):
        raise UnsafeMember(f"{member.name!r} is a device or FIFO, which data may not hold")
    mode = member.mode & ~_CLEARED
    if kind == "data":
        if member.isreg() or member.islnk():
            if not mode & stat.S_IXUSR:
                mode &= ~(stat.S_IXGRP | stat.S_IXOTH)
            mode |= stat.S_IRUSR | stat.S_IWUSR
        out.uid = out.gid = 0
        out.uname = out.gname = ""
    out.mode = mode
    return out
