"""Unpack an image's layers into a root filesystem, once per chain of layers.

The result is cached under ``<cache>/rootfs/<chain id>`` and never written to again:
containers run on an overlay above it (or read-only), so any number of them share one
copy. An unpack happens in a temporary directory beside the cache entry and is renamed
into place only when complete, so an interrupted unpack leaves nothing that looks done.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

from cog._run.image import Image, Layer, blob_path
from cog.errors import RunError
from cog.progress import NullProgress, Progress

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


def chain_id(diff_ids: tuple[str, ...]) -> str:
    """The OCI chain id of a stack of layers (bottom first)."""
    if not diff_ids:
        return "sha256:" + hashlib.sha256(b"").hexdigest()
    chain = diff_ids[0]
    for diff_id in diff_ids[1:]:
        chain = "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
    return chain


def unpacked_rootfs(image: Image, cache_root: Path, progress: Progress | None = None) -> Path:
    """The image's root filesystem, unpacked into the cache if it is not there yet."""
    progress = progress or NullProgress()
    key = chain_id(image.config.diff_ids or tuple(layer.digest for layer in image.layers))
    final = cache_root / "rootfs" / key.replace(":", "-")
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=final.parent))
    try:
        root = staging / "rootfs"
        root.mkdir()
        task = progress.task("unpacking image", total=len(image.layers))
        for layer in image.layers:
            _apply_layer(root, image, layer)
            task.advance(1)
        task.finish()
        try:
            os.rename(root, final)
        except OSError:
            if not final.is_dir():  # not a concurrent unpack that finished first
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


@contextlib.contextmanager
def _open_layer(image: Image, layer: Layer) -> Iterator[IO[bytes]]:
    path = blob_path(image.layout, layer.digest)
    if not path.is_file():
        raise RunError(f"layer {layer.digest} is missing from {image.layout}", "Pull it again.")
    if "zstd" in layer.media_type:
        raise RunError(
            f"layer {layer.digest} is zstd-compressed, which this cog cannot unpack yet",
            "Use an image with gzip layers.",
        )
    with path.open("rb") as raw:
        compressed = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not compressed:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield cast(IO[bytes], unzipped)


def _apply_layer(root: Path, image: Image, layer: Layer) -> None:
    created: set[str] = set()
    with _open_layer(image, layer) as stream, tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in _members(archive):
            name = member.name
            parent, _, base = name.rpartition("/")
            if base == OPAQUE_MARKER:
                _make_opaque(root / parent, parent, created)
            elif base.startswith(WHITEOUT_PREFIX):
                _remove(root / parent / base[len(WHITEOUT_PREFIX) :])
            else:
                _replace_non_directory(root / name, member)
                archive.extract(member, path=root, filter="tar", numeric_owner=True)
                created.add(name)


def _members(archive: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    for member in archive:
        name = os.path.normpath(member.name.lstrip("/"))
        if name in (".", ""):
            continue
        if name.startswith("../"):
            raise RunError(f"layer entry {member.name!r} points outside the image")
        member.name = name
        yield member


def _make_opaque(directory: Path, relative: str, created: set[str]) -> None:
    """Hide what lower layers put in ``directory``, keeping what this layer added."""
    if not directory.is_dir():
        return
    for child in directory.iterdir():
        key = f"{relative}/{child.name}" if relative else child.name
        if key not in created:
            _remove(child)


def _replace_non_directory(target: Path, member: tarfile.TarInfo) -> None:
    # A file or link over an existing entry replaces it; writing through an existing
    # symlink would change whatever it points at instead.
    if not os.path.lexists(target):
        return
    if member.isdir() and target.is_dir() and not target.is_symlink():
        return
    _remove(target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
