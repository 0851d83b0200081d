"""Paths resolved beneath a root directory, never outside it, whatever symlinks it holds.

An unpacked image is untrusted: one layer may plant ``esc -> /etc`` and a later one write
``esc/passwd``. Every lookup here starts from a directory file descriptor of the root and
resolves as if that root were ``/`` (what ``chroot`` and runc do): a symlink, absolute or
relative, and ``..`` can never leave it. The kernel does this in one call with openat2's
``RESOLVE_IN_ROOT`` (Linux 5.6); where that is missing or filtered (old kernels, seccomp),
the same walk is done one component at a time with ``O_NOFOLLOW`` and directory fds, as
filepath-securejoin does for runc.

Callers get ``O_PATH`` directory fds and use them as ``dir_fd`` for the final component,
so the last step of every operation never follows a symlink either.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import cast

_PATH_FLAGS = os.O_PATH | os.O_CLOEXEC
_MAX_SYMLINKS = 40  # as the kernel's own limit (ELOOP)

# openat2(2): struct open_how {u64 flags; u64 mode; u64 resolve;}
_SYS_OPENAT2 = 437  # the same number on every architecture since the syscall tables merged
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_IN_ROOT = 0x10


class SymlinkInPathError(OSError):
    """A path that must be symlink-free passes through a symlink."""


class _OpenHow(ctypes.Structure):
    _fields_ = (("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64))


def _load_syscall() -> Callable[..., int] | None:
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "aarch64"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    return cast("Callable[..., int]", syscall)


_SYSCALL = _load_syscall()


class ContainedRoot:
    """A directory every lookup is confined to; closes its fd on exit."""

    def __init__(self, path: Path, *, use_openat2: bool = True) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self._openat2 = use_openat2 and _SYSCALL is not None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> ContainedRoot:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open_dir(self, relative: str, *, follow: bool = True, create: bool = False) -> int:
        """An ``O_PATH`` fd of the directory ``relative`` (``""`` is the root) beneath the root.

        ``follow``: symlinks on the way are followed as if the root were ``/``; without it any
        symlink on the way raises :class:`SymlinkInPathError`. ``create``: missing
        directories are made (mode 0755), as tar does for an entry whose parents it lacks.
        The caller closes the fd.
        """
        if self._openat2:
            fd = self._try_openat2(relative, follow=follow)
            if fd is not None:
                return fd
        return self._walk(relative, follow=follow, create=create)

    def _try_openat2(self, relative: str, *, follow: bool) -> int | None:
        """The fd, or None where the walk must decide (missing parts, a symlink, no openat2)."""
        assert _SYSCALL is not None
        resolve = _RESOLVE_IN_ROOT | _RESOLVE_NO_MAGICLINKS
        if not follow:
            resolve |= _RESOLVE_NO_SYMLINKS
        how = _OpenHow(_PATH_FLAGS | os.O_DIRECTORY, 0, resolve)
        path = (relative or ".").encode()
        fd = int(_SYSCALL(_SYS_OPENAT2, self.fd, path, ctypes.byref(how), ctypes.sizeof(how)))
        if fd >= 0:
            return fd
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EPERM, errno.E2BIG, errno.EINVAL):
            self._openat2 = False  # not this kernel, or filtered by seccomp: walk from now on
        return None  # ENOENT, ELOOP, ENOTDIR, EAGAIN…: the walk says exactly what and where

    def _walk(self, relative: str, *, follow: bool, create: bool) -> int:
        parts = [part for part in relative.split("/") if part not in ("", ".")]
        parts.reverse()  # a stack: next component last
        stack = [os.dup(self.fd)]  # the directories from the root down to where we are
        links = 0
        try:
            while parts:
                part = parts.pop()
                if part == "..":
                    if len(stack) > 1:
                        os.close(stack.pop())
                    continue
                fd = self._step(stack[-1], part, create=create, relative=relative)
                mode = os.fstat(fd).st_mode
                if stat.S_ISDIR(mode):
                    stack.append(fd)
                    continue
                os.close(fd)
                if not stat.S_ISLNK(mode):
                    raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), relative)
                if not follow:
                    raise SymlinkInPathError(errno.ELOOP, "a symlink is on the way", relative)
                links += 1
                if links > _MAX_SYMLINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), relative)
                target = os.readlink(part, dir_fd=stack[-1])
                if target.startswith("/"):
                    while len(stack) > 1:
                        os.close(stack.pop())
                parts.extend(reversed([p for p in target.split("/") if p not in ("", ".")]))
            return stack.pop()
        finally:
            for fd in stack:
                os.close(fd)

    @staticmethod
    def _step(parent: int, part: str, *, create: bool, relative: str) -> int:
        try:
            return os.open(part, _PATH_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        except FileNotFoundError:
            if not create:
                raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), relative) from None
        os.mkdir(part, 0o755, dir_fd=parent)
        return os.open(part, _PATH_FLAGS | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=parent)

    def open_parent(
        self, relative: str, *, follow: bool = True, create: bool = False
    ) -> tuple[int, str]:
        """(``O_PATH`` fd of the parent directory, final component) of ``relative``."""
        parent, _, base = relative.rpartition("/")
        if base in ("", ".", ".."):
            raise ValueError(f"{relative!r} names no entry")
        return self.open_dir(parent, follow=follow, create=create), base
