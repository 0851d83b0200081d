"""A layer's file tree, staged on disk, with the metadata the layer records kept apart.

Contents are written under a private staging directory (so a big layer never sits in
memory, and the staged tree can be run: the interpreter compiles .pyc in it), while mode
and numeric owner live in ``entries``: the build need not run as root and the host's
umask or owner never reaches a layer.

Paths through a symlink are resolved inside the tree, never on the host, so an archive
shipping ``x -> /etc`` and then ``x/passwd`` writes ``etc/passwd`` of the image, not the
host's.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cog.errors import BuildError

from .tar import Entry, EntryKind

_MAX_LINKS = 40


def normalise(path: str) -> str:
    """``./usr//lib/`` → ``usr/lib``; refuses paths that climb out of the root."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise BuildError(f"archive member {path!r} climbs out of the image root")
    return "/".join(parts)


class Tree:
    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.entries: dict[str, Entry] = {}
        staging.mkdir(parents=True, exist_ok=True)

    # resolution

    def resolve(self, path: str) -> str:
        """The in-tree path with every directory symlink along it followed."""
        parts = normalise(path).split("/") if path.strip("/.") else []
        done: list[str] = []
        hops = 0
        while parts:
            name = parts.pop(0)
            candidate = "/".join([*done, name])
            entry = self.entries.get(candidate)
            if entry is not None and entry.kind == "symlink" and parts:
                hops += 1
                if hops > _MAX_LINKS:
                    raise BuildError(f"too many symlinks resolving {path!r} in the image")
                target = entry.linkname
                base = "" if target.startswith("/") else "/".join(done)
                parts = [p for p in normalise(posixpath.join(base, target)).split("/") if p] + parts
                done = []
                continue
            done.append(name)
        return "/".join(done)

    def host_path(self, path: str) -> Path:
        return self.staging / path if path else self.staging

    def _parent_ready(self, path: str) -> str:
        resolved = self.resolve(path)
        parent = posixpath.dirname(resolved)
        if parent:
            self.add_dir(parent, exist_ok=True)
        existing = self.entries.get(resolved)
        if existing is not None:
            self._remove(resolved, existing.kind)
        return resolved

    def _remove(self, path: str, kind: EntryKind) -> None:
        host = self.host_path(path)
        if kind == "dir":
            shutil.rmtree(host)
            for key in [k for k in self.entries if k.startswith(path + "/")]:
                del self.entries[key]
        else:
            host.unlink(missing_ok=True)
        del self.entries[path]

    def remove(self, path: str) -> None:
        """Drop ``path`` (a directory with everything under it) if the tree has it."""
        resolved = self.resolve(path)
        entry = self.entries.get(resolved)
        if entry is not None:
            self._remove(resolved, entry.kind)

    # adding

    def add_dir(
        self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0, *, exist_ok: bool = True
    ) -> str:
        resolved = self.resolve(path)
        if not resolved:
            return resolved
        existing = self.entries.get(resolved)
        if existing is not None and existing.kind == "dir":
            if not exist_ok:
                self.entries[resolved] = Entry(resolved, "dir", mode, uid, gid)
            return resolved
        parent = posixpath.dirname(resolved)
        if parent:
            self.add_dir(parent)
        if existing is not None:
            self._remove(resolved, existing.kind)
        self.host_path(resolved).mkdir(mode=0o755, exist_ok=True)
        self.entries[resolved] = Entry(resolved, "dir", mode, uid, gid)
        return resolved

    def set_dir(self, path: str, mode: int, uid: int = 0, gid: int = 0) -> str:
        """Add a directory, or take this metadata for one already there."""
        return self.add_dir(path, mode, uid, gid, exist_ok=False)

    def add_stream(
        self, path: str, stream: IO[bytes], mode: int = 0o644, uid: int = 0, gid: int = 0
    ) -> str:
        resolved = self._parent_ready(path)
        host = self.host_path(resolved)
        with host.open("xb") as out:
            shutil.copyfileobj(stream, out, 1 << 20)
        host.chmod(0o755 if mode & 0o111 else 0o644)
        self.entries[resolved] = Entry(resolved, "file", mode, uid, gid, source=host)
        return resolved

    def add_bytes(self, path: str, data: bytes, mode: int = 0o644) -> str:
        resolved = self._parent_ready(path)
        host = self.host_path(resolved)
        host.write_bytes(data)
        host.chmod(0o755 if mode & 0o111 else 0o644)
        self.entries[resolved] = Entry(resolved, "file", mode, source=host)
        return resolved

    def add_symlink(self, path: str, target: str, uid: int = 0, gid: int = 0) -> str:
        resolved = self._parent_ready(path)
        os.symlink(target, self.host_path(resolved))
        self.entries[resolved] = Entry(resolved, "symlink", 0o777, uid, gid, linkname=target)
        return resolved

    def add_hardlink(self, path: str, target: str, uid: int = 0, gid: int = 0) -> str:
        target_resolved = self.resolve(target)
        if self.entries.get(target_resolved, None) is None:
            raise BuildError(f"hard link {path!r} points at {target!r}, which is not in the image")
        # Written as a plain file with the same contents: layer entries are sorted, and a
        # tar hard link must follow its target, which sorting cannot promise.
        source = self.entries[target_resolved]
        resolved = self._parent_ready(path)
        os.link(self.host_path(target_resolved), self.host_path(resolved))
        self.entries[resolved] = Entry(
            resolved, "file", source.mode, uid, gid, source=self.host_path(resolved)
        )
        return resolved

    def adopt_new_files(self, under: str, mode: int = 0o644) -> int:
        """Register files a tool wrote into the staging tree (compileall's .pyc)."""
        count = 0
        top = self.host_path(self.resolve(under))
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, self.staging)
            rel_dir = "" if rel_dir == "." else rel_dir
            for name in [*dirnames, *filenames]:
                rel = f"{rel_dir}/{name}" if rel_dir else name
                if rel in self.entries:
                    continue
                host = self.staging / rel
                if host.is_symlink():
                    continue
                if host.is_dir():
                    self.entries[rel] = Entry(rel, "dir", 0o755)
                else:
                    self.entries[rel] = Entry(rel, "file", mode, source=host)
                    count += 1
        return count

    # reading

    def read_bytes(self, path: str) -> bytes | None:
        entry = self.entries.get(self.resolve(path))
        if entry is None or entry.kind != "file":
            return None
        return self.host_path(entry.path).read_bytes()

    def listdir(self, path: str) -> list[str]:
        resolved = self.resolve(path)
        prefix = resolved + "/"
        return sorted(
            k[len(prefix) :]
            for k in self.entries
            if k.startswith(prefix) and "/" not in k[len(prefix) :]
        )

    def __contains__(self, path: str) -> bool:
        return self.resolve(path) in self.entries

    def layer_entries(self) -> Iterator[Entry]:
        return iter(self.entries.values())
