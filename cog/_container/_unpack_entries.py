"""Writing one layer's tar entries beneath a contained root, as the OCI layer spec says.

tarfile's own ``extract`` is not used: it follows symlinks that earlier entries planted,
changes the mode and owner of whatever a hardlink names (its "tar" filter checks neither),
and drops setuid/setgid bits. Here every entry's parent is resolved in the root, its final
component is never followed, and files are written, owned and chmod-ed through their fd:
the image's modes, setuid and setgid included, are kept as it states them. Device nodes
and fifos are skipped (a container's /dev comes from its runtime), and counted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tarfile

from cog._container._contained import ContainedRoot, SymlinkInPathError
from cog._container._layerstream import CHUNK, LayerStream
from cog.errors import RunError

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def entry_name(raw: str, what: str) -> str | None:
    """The entry's path relative to the root; None for the root itself."""
    if "\0" in raw:
        raise RunError(f"{what} has an entry whose name holds a NUL byte")
    name = os.path.normpath(raw.lstrip("/"))
    if name in (".", ""):
        return None
    if name == ".." or name.startswith("../"):
        raise RunError(f"{what}: entry {raw!r} points outside the image")
    return name


class EntryWriter:
    """Applies a layer's entries in order; remembers what this layer created (for opaque
    whiteouts, which hide only what lower layers put there)."""

    def __init__(self, root: ContainedRoot, stream: LayerStream) -> None:
        self._root, self._stream = root, stream
        self.what = stream.what
        self._created: set[tuple[int, int, str]] = set()  # (dev, inode of parent dir, name)
        self._owner = os.geteuid() == 0
        self.skipped: list[str] = []

    def apply(self, member: tarfile.TarInfo, archive: tarfile.TarFile) -> None:
        name = entry_name(member.name, self.what)
        if name is None:
            return
        try:
            self._dispatch(name, member, archive)
        except SymlinkInPathError as err:
            raise RunError(
                f"{self.what}: entry {member.name!r} reaches through a symlink, which a "
                "whiteout may not do",
                "The image is malformed or hostile: do not run it.",
            ) from err
        except OSError as err:
            if err.errno == errno.ENOSPC:
                raise
            raise RunError(
                f"{self.what}: cannot unpack entry {member.name!r}: {err.strerror or err}",
                "The image is malformed; rebuild it, or ask its publisher.",
            ) from err

    def _dispatch(self, name: str, member: tarfile.TarInfo, archive: tarfile.TarFile) -> None:
        parent, _, base = name.rpartition("/")
        if base == OPAQUE_MARKER:
            self._opaque(parent)
        elif base.startswith(WHITEOUT_PREFIX):
            self._whiteout(parent, base[len(WHITEOUT_PREFIX) :], member.name)
        elif member.isreg():
            self._file(name, member, archive)
        elif member.isdir():
            self._directory(name, member)
        elif member.issym():
            self._symlink(name, member)
        elif member.islnk():
            self._hardlink(name, member)
        else:
            self.skipped.append(name)

    # whiteouts: the path must not pass through any symlink

    def _whiteout(self, parent: str, hidden: str, raw: str) -> None:
        if hidden in ("", ".", ".."):
            raise RunError(f"{self.what}: whiteout {raw!r} names no entry")
        try:
            fd = self._root.open_dir(parent, follow=False)
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing below to hide
        try:
            _remove(fd, hidden)
        finally:
            os.close(fd)

    def _opaque(self, directory: str) -> None:
        try:
            fd = self._root.open_dir(directory, follow=False)
        except (FileNotFoundError, NotADirectoryError):
            return
        try:
            st = os.fstat(fd)
            listing = os.open(".", _OPEN_DIR, dir_fd=fd)
            try:
                names = os.listdir(listing)
            finally:
                os.close(listing)
            for child in names:
                if (st.st_dev, st.st_ino, child) not in self._created:
                    _remove(fd, child)
        finally:
            os.close(fd)

    # entries: the parent resolves inside the root, the final component is never followed

    def _place(self, name: str, *, keep_dir: bool = False) -> tuple[int, str]:
        fd, base = self._root.open_parent(name, follow=True, create=True)
        try:
            st = os.fstat(fd)
            self._created.add((st.st_dev, st.st_ino, base))
            with contextlib.suppress(FileNotFoundError):
                existing = os.stat(base, dir_fd=fd, follow_symlinks=False)
                if not (keep_dir and stat.S_ISDIR(existing.st_mode)):
                    _remove(fd, base, existing)
        except BaseException:
            os.close(fd)
            raise
        return fd, base

    def _file(self, name: str, member: tarfile.TarInfo, archive: tarfile.TarFile) -> None:
        self._stream.charge(member.size)
        source = archive.extractfile(member)
        assert source is not None
        parent, base = self._place(name)
        try:
            fd = os.open(base, _NEW_FILE, 0o600, dir_fd=parent)
        finally:
            os.close(parent)
        with open(fd, "wb", buffering=0) as out:
            while chunk := source.read(CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[out.write(view) or 0 :]
            self._own(fd, member)

    def _directory(self, name: str, member: tarfile.TarInfo) -> None:
        parent, base = self._place(name, keep_dir=True)
        try:
            with contextlib.suppress(FileExistsError):
                os.mkdir(base, 0o700, dir_fd=parent)
            fd = os.open(base, _OPEN_DIR, dir_fd=parent)
        finally:
            os.close(parent)
        try:
            self._own(fd, member)
        finally:
            os.close(fd)

    def _symlink(self, name: str, member: tarfile.TarInfo) -> None:
        parent, base = self._place(name)
        try:
            os.symlink(member.linkname, base, dir_fd=parent)
            if self._owner:
                os.chown(base, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
            with contextlib.suppress(OSError, OverflowError, ValueError):
                os.utime(base, (member.mtime, member.mtime), dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)

    def _hardlink(self, name: str, member: tarfile.TarInfo) -> None:
        target = entry_name(member.linkname, self.what)
        refused = f"{self.what}: hardlink {member.name!r} -> {member.linkname!r}"
        if target is None or target == name:
            raise RunError(f"{refused} names no file")
        missing = RunError(f"{refused}: no such file earlier in the image")
        try:
            source, source_base = self._root.open_parent(target, follow=True)
        except (FileNotFoundError, NotADirectoryError):
            raise missing from None
        try:
            try:
                st = os.stat(source_base, dir_fd=source, follow_symlinks=False)
            except FileNotFoundError:
                raise missing from None
            if not stat.S_ISREG(st.st_mode):
                raise RunError(f"{refused}: only regular files may be hardlinked")
            parent, base = self._place(name)
            try:
                os.link(
                    source_base, base, src_dir_fd=source, dst_dir_fd=parent, follow_symlinks=False
                )
            finally:
                os.close(parent)
        finally:
            os.close(source)

    def _own(self, fd: int, member: tarfile.TarInfo) -> None:
        if self._owner:
            os.fchown(fd, member.uid, member.gid)
        os.fchmod(fd, member.mode & 0o7777)  # after chown, which clears setuid/setgid
        with contextlib.suppress(OSError, OverflowError, ValueError):
            os.utime(fd, (member.mtime, member.mtime))


def _remove(parent: int, name: str, existing: os.stat_result | None = None) -> None:
    if existing is None:
        try:
            existing = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
    if stat.S_ISDIR(existing.st_mode):
        shutil.rmtree(name, dir_fd=parent)
    else:
        os.unlink(name, dir_fd=parent)
