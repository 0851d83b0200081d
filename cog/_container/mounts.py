"""Mount and unmount with the system calls themselves, not mount(8).

A host needs no util-linux for cog to run containers (a minimal Debian has no `mount`),
and an overlay that cannot be mounted is an answer, not a missing program.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

_MNT_DETACH = 2
_UMOUNT_NOFOLLOW = 8
_libc = ctypes.CDLL(None, use_errno=True)


def mount_overlay(lower: Path, upper: Path, work: Path, target: Path) -> bool:
    """mount(2) an overlay of ``upper`` over ``lower`` at ``target``; False when refused."""
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    done = _libc.mount(b"overlay", os.fsencode(target), b"overlay", 0, os.fsencode(options))
    return int(done) == 0


def detach_mount(path: Path) -> bool:
    """umount2(MNT_DETACH | UMOUNT_NOFOLLOW); True when ``path`` is no longer mounted."""
    if _libc.umount2(os.fsencode(path), _MNT_DETACH | _UMOUNT_NOFOLLOW) == 0:
        return True
    return not mounts_beneath(path)


def mounts_beneath(path: Path) -> list[Path]:
    """Mount points at or below ``path`` in this mount namespace, deepest first."""
    prefix = os.fsencode(path)
    found = []
    with open("/proc/self/mountinfo", "rb") as table:
        for line in table:
            point = _unescape(line.split()[4])
            if point == prefix or point.startswith(prefix + b"/"):
                found.append(Path(os.fsdecode(point)))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def _unescape(field: bytes) -> bytes:
    # mountinfo writes space, tab, newline and backslash as \ooo octal escapes.
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)
