"""Builders for each kind of layer, and the keys that let a build reuse them.

A layer's key is the sha256 of everything its bytes depend on (the format version, the
content digests of its inputs, the compiler of its .pyc), never of a path or a clock, so
two machines or two cache directories agree on it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cog.errors import BuildError

from . import tar_extract, zstd
from .cache import Cache, LayerRecord
from .deb import DebFile
from .oci import canonical_json
from .pyc import Interpreter, compile_into, rootfs_interpreter
from .rootfs_fixups import apply_fixups
from .tar import Entry, write_layer
from .tree import Tree
from .wheel import InstalledDist, PythonLayout, install_wheel

LAYER_FORMAT = "cog-layer-1"


def layer_key(kind: str, **inputs: object) -> str:
    return hashlib.sha256(
        canonical_json({"format": LAYER_FORMAT, "kind": kind, **inputs})
    ).hexdigest()


@dataclass(frozen=True)
class DebInput:
    name: str
    path: Path


def build_os_layer(
    debs: Sequence[DebInput],
    python_version: str,
    cache: Cache,
    *,
    staging: Path,
    compiler: Interpreter | None,
    description: str,
    rootfs_arch: str | None = None,
    mtime: int = 0,
) -> LayerRecord:
    """Unpack the debs, apply the fix-ups, precompile the stdlib; ``staging`` stays behind
    as a runnable rootfs for later steps (the caller removes it).

    With ``rootfs_arch``, the stdlib is compiled by the unpacked interpreter itself.
    """
    tree = Tree(staging)
    controls: list[str] = []
    for deb in debs:
        package = DebFile(deb.path, origin=deb.name)
        controls.append(package.control())
        package.unpack_into(tree)
    apply_fixups(tree, controls, python_version)
    if rootfs_arch is not None:
        compiler = rootfs_interpreter(staging, python_version, rootfs_arch) or compiler
    if compiler is not None:
        stdlib = [f"usr/lib/python{python_version}", "usr/lib/python3/dist-packages"]
        compile_into(tree, stdlib, compiler)
    return write_layer(tree.layer_entries(), cache, description, mtime=mtime)


def build_wheels_layer(
    wheels: Sequence[Path],
    python_version: str,
    cache: Cache,
    *,
    staging: Path,
    compiler: Interpreter | None,
    description: str,
    extra_files: Iterable[tuple[str, Path | bytes]] = (),
    mtime: int = 0,
    layout: PythonLayout | None = None,
) -> tuple[LayerRecord, list[InstalledDist]]:
    tree = Tree(staging)
    layout = layout or PythonLayout.debian(python_version)
    installed = [install_wheel(tree, wheel, python_version, layout) for wheel in wheels]
    for dest, source in extra_files:
        if isinstance(source, bytes):
            tree.add_bytes(dest, source)
        else:
            with source.open("rb") as f:
                tree.add_stream(dest, f, 0o644)
    if compiler is not None:
        compile_into(tree, [layout.site], compiler)
    return write_layer(tree.layer_entries(), cache, description, mtime=mtime), installed


def _parents(path: str) -> Iterable[str]:
    parts = path.split("/")[:-1]
    for i in range(len(parts)):
        yield "/".join(parts[: i + 1])


def project_entries(files: Sequence[tuple[str, Path]]) -> list[Entry]:
    """Entries for project files (code, weights) at their in-image paths, parents included.

    Modes are normalised to 0644/0755 so a checkout's umask does not change the layer.
    """
    entries: dict[str, Entry] = {}
    for dest, source in files:
        for parent in _parents(dest):
            entries.setdefault(parent, Entry(parent, "dir", 0o755))
        st = source.lstat()
        if stat.S_ISLNK(st.st_mode):
            entries[dest] = Entry(dest, "symlink", 0o777, linkname=os.readlink(source))
        else:
            mode = 0o755 if st.st_mode & 0o111 else 0o644
            entries[dest] = Entry(dest, "file", mode, source=source)
    return list(entries.values())


def build_files_layer(
    files: Sequence[tuple[str, Path]], cache: Cache, description: str, *, mtime: int = 0
) -> LayerRecord:
    return write_layer(project_entries(files), cache, description, mtime=mtime)


def extract_layer(blob: Path, dest: Path) -> None:
    """Unpack a layer blob, tar, gzip or zstd (to run commands on what is below)."""
    dest.mkdir(parents=True, exist_ok=True)
    with blob.open("rb") as raw:
        if raw.read(len(zstd.MAGIC)) != zstd.MAGIC:
            raw.seek(0)
            with tarfile.open(fileobj=raw, mode="r:*") as tar:
                _extract_members(tar, dest, blob.name)
            return
        raw.seek(0)
        with zstd.ZstdReader(raw, f"layer {blob.name}", BuildError, BuildError) as reader:
            with tarfile.open(fileobj=reader, mode="r|") as tar:  # type: ignore[call-overload]
                _extract_members(tar, dest, blob.name)
            while reader.read():
                pass


def _extract_members(tar: tarfile.TarFile, dest: Path, layer: str) -> None:
    for member in tar:
        if member.name.split("/")[-1].startswith(".wh."):
            _apply_whiteout(dest, member.name)
            continue
        try:
            tar_extract.extract(tar, member, dest, "tar")
        except tar_extract.UnsafeMember as e:
            raise BuildError(
                f"layer {layer} has an unsafe member: {e}",
                "The base image is malformed or hostile; build on another image.",
            ) from e


def _apply_whiteout(root: Path, name: str) -> None:
    parent, _, base = name.rpartition("/")
    target = root / parent / base[len(".wh.") :]
    if base == ".wh..wh..opq":
        shutil.rmtree(root / parent, ignore_errors=True)
        (root / parent).mkdir(parents=True, exist_ok=True)
    elif target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    else:
        target.unlink(missing_ok=True)
