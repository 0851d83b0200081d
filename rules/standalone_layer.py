"""The interpreter layer of an image whose Python comes from python-build-standalone.

The archive's ``python/`` tree goes to ``/usr/local`` (the layout of python.org's own
images: ``/usr/local/bin/python3.X``, packages in ``/usr/local/lib/python3.X/
site-packages``). Its bytecode is dropped and compiled again with unchecked-hash
invalidation by the interpreter itself, run on the Debian base's C library, so .pyc stay
valid with normalised mtimes. ``python`` and ``python3`` are on PATH; scripts get a plain
``#!`` line (the archive's ``/bin/sh`` trampoline needs a shell that the base does not
have). The archive's own pip is left out: pip is one of the runtime's locked wheels
(third_party/runtime.toml), installed with ``pip``/``pip3`` scripts like every image's.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from cog.errors import BuildError

from .cache import Cache, LayerRecord
from .lockfile import Lock
from .pyc import compile_into, standalone_interpreter
from .python_standalone import SOURCE_STANDALONE, StandaloneBuild
from .tar import write_layer
from .tree import Tree, normalise

PREFIX = "usr/local"
_PYTHON_SHEBANG = re.compile(rb"^#![^\n]*python[^\n]*$")
_TRAMPOLINE = b"'''exec'"


def _in_image(name: str) -> str | None:
    path = normalise(name)
    head, _, rest = path.partition("/")
    if head != "python" or not rest:
        return None
    parts = rest.split("/")
    if "__pycache__" in parts or rest.endswith((".pyc", ".pyo")):
        return None  # compiled again below, deterministically
    if _bundled_pip(parts):
        return None  # pip is a locked runtime wheel: one pip, the lock's, in every image
    return f"{PREFIX}/{rest}"


def _bundled_pip(parts: list[str]) -> bool:
    if parts[0] == "bin":
        return len(parts) == 2 and re.fullmatch(r"pip[\d.]*", parts[1]) is not None
    if len(parts) > 3 and parts[0] == "lib" and parts[2] == "site-packages":
        return parts[3] == "pip" or re.fullmatch(r"pip-[^-/]+\.dist-info", parts[3]) is not None
    return False


def _unpack(archive: Path, tree: Tree, origin: str) -> None:
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            for info in tar:
                dest = _in_image(info.name)
                if dest is None:
                    continue
                if info.isdir():
                    tree.set_dir(dest, info.mode & 0o7777 or 0o755)
                elif info.isreg():
                    stream = tar.extractfile(info)
                    assert stream is not None
                    tree.add_stream(dest, stream, 0o755 if info.mode & 0o111 else 0o644)
                elif info.issym():
                    if info.linkname.startswith("/"):
                        raise BuildError(f"{origin}: {info.name} links outside the archive")
                    tree.add_symlink(dest, info.linkname)
                elif info.islnk():
                    target = _in_image(info.linkname)
                    if target is not None:
                        tree.add_hardlink(dest, target)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise BuildError(f"{origin}: not a readable python-build-standalone archive: {e}") from e
    if not tree.entries:
        raise BuildError(
            f"{origin}: no python/ tree in the archive",
            "The file pinned in cog.lock is not an install_only python-build-standalone build.",
        )


def _fix_scripts(tree: Tree, minor: str) -> None:
    interpreter = f"#!/{PREFIX}/bin/python{minor}".encode()
    for name in tree.listdir(f"{PREFIX}/bin"):
        path = f"{PREFIX}/bin/{name}"
        entry = tree.entries.get(path)
        if entry is None or entry.kind != "file":
            continue
        data = tree.read_bytes(path) or b""
        first, nl, rest = data.partition(b"\n")
        is_trampoline = first.startswith(b"#!/bin/sh") and rest.startswith(_TRAMPOLINE)
        if nl and (is_trampoline or _PYTHON_SHEBANG.match(first)):
            tree.add_bytes(path, interpreter + nl + rest, 0o755)


def _entry_points(tree: Tree, minor: str) -> None:
    for alias, target in (
        ("python", f"python{minor}"),
        ("python3", f"python{minor}"),
    ):
        if f"{PREFIX}/bin/{alias}" not in tree and f"{PREFIX}/bin/{target}" in tree:
            tree.add_symlink(f"{PREFIX}/bin/{alias}", target)
    tree.add_dir(f"{PREFIX}/lib/python{minor}/site-packages")


def build_standalone_layer(
    archive: Path,
    minor: str,
    cache: Cache,
    *,
    staging: Path,
    os_rootfs: Path,
    arch: str,
    description: str,
    mtime: int = 0,
) -> LayerRecord:
    """Unpack the pbs ``archive`` for Python ``minor`` into a layer above ``os_rootfs``."""
    tree = Tree(staging)
    _unpack(archive, tree, archive.name)
    if f"{PREFIX}/bin/python{minor}" not in tree:
        raise BuildError(
            f"{archive.name}: the archive has no python/bin/python{minor}",
            "cog.lock pins an archive for another Python; run `cog lock --upgrade`.",
        )
    _fix_scripts(tree, minor)
    _entry_points(tree, minor)
    compiler = standalone_interpreter(os_rootfs, staging, minor, arch)
    if compiler is not None:
        compile_into(tree, [f"{PREFIX}/lib/python{minor}"], compiler)
    return write_layer(tree.layer_entries(), cache, description, mtime=mtime)


def standalone_build(lock: Lock) -> StandaloneBuild | None:
    """The python-build-standalone build cog.lock pins, if its Python comes from there."""
    pinned = lock.interpreter
    if pinned is None or pinned.source != SOURCE_STANDALONE:
        return None
    if pinned.release is None or pinned.filename is None or pinned.sha256 is None:
        raise BuildError(
            "cog.lock's [interpreter] names python-build-standalone without release, "
            "filename and sha256",
            "Run `cog lock --upgrade` to pin it again.",
        )
    return StandaloneBuild(
        pinned.version, lock.target.arch, pinned.release, pinned.filename, pinned.sha256
    )
