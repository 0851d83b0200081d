"""Unpack an image's layers into a root filesystem, once per chain of layers.

The result is cached under ``<cache>/rootfs/<chain id>`` and never written to again:
containers run on an overlay above it (or read-only), so any number of them share one
copy. An unpack happens in a temporary directory beside the cache entry and is renamed
into place only when complete, so an interrupted unpack leaves nothing that looks done.

Pulled images are untrusted. Every entry is written beneath the root through
:mod:`cog._container._contained` (symlinks the layers planted resolve inside the root, never
out of it); each layer's blob digest and uncompressed digest (its diff_id, which the cache
key is made of) are recomputed while it streams, and a mismatch caches nothing.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import IO, cast

from cog._container._contained import ContainedRoot
from cog._container._layerstream import BombError, BoundedTarInfo, LayerStream, UnpackLimits
from cog._container._unpack_entries import EntryWriter
from cog._container.image import Image, Layer, blob_path
from cog.errors import RunError
from cog.progress import NullProgress, Progress, phase


def chain_id(diff_ids: tuple[str, ...]) -> str:
    """The OCI chain id of a stack of layers (bottom first)."""
    if not diff_ids:
        return "sha256:" + hashlib.sha256(b"").hexdigest()
    chain = diff_ids[0]
    for diff_id in diff_ids[1:]:
        chain = "sha256:" + hashlib.sha256(f"{chain} {diff_id}".encode()).hexdigest()
    return chain


def _diff_ids(image: Image) -> tuple[str | None, ...]:
    """The diff_id each layer must unpack to (None: the config names none; the cache key is
    then the verified blob digests)."""
    claimed = image.config.diff_ids
    if not claimed:
        return (None,) * len(image.layers)
    if len(claimed) != len(image.layers):
        raise RunError(
            f"image {image.manifest_digest} has {len(image.layers)} layers but its config "
            f"names {len(claimed)} diff_ids",
            "The image is inconsistent: rebuild it, or ask its publisher.",
        )
    return claimed


def unpacked_rootfs(image: Image, cache_root: Path, progress: Progress | None = None) -> Path:
    """The image's root filesystem, unpacked into the cache if it is not there yet."""
    progress = progress or NullProgress()
    expected = _diff_ids(image)
    key = chain_id(image.config.diff_ids or tuple(layer.digest for layer in image.layers))
    final = cache_root / "rootfs" / key.replace(":", "-")
    if final.is_dir():
        return final
    limits = UnpackLimits.from_env()
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=final.parent))
    except OSError as err:
        _raise_if_disk_full(err, final.parent)
        raise
    try:
        root = staging / "rootfs"
        root.mkdir()
        used = 0
        total = sum(layer.size for layer in image.layers)
        with (
            phase(progress, "Unpacking", done="unpacked", noun="layers", total=total) as layers,
            ContainedRoot(root) as contained,
        ):
            for layer, diff_id in zip(image.layers, expected, strict=True):
                limit = limits.for_layer(layer.size, used)
                task = layers.task(layer.digest[7:19], total=layer.size)
                try:
                    used += _apply_layer(
                        contained, image, layer, diff_id=diff_id, limit=limit, progress=layers
                    )
                except BombError as err:
                    raise RunError(err.message, limits.hint()) from err
                task.advance(layer.size)
                task.finish()
        try:
            os.rename(root, final)
        except OSError:
            if not final.is_dir():  # not a concurrent unpack that finished first
                raise
    except OSError as err:
        _raise_if_disk_full(err, final.parent)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def _raise_if_disk_full(err: OSError, where: Path) -> None:
    if err.errno != errno.ENOSPC:
        return
    raise RunError(
        f"no space left on {where} while unpacking the image (nothing was cached)",
        "Free some space there, or point COG_CACHE_DIR at a larger disk.",
    ) from err


def _apply_entries(stream: LayerStream, writer: EntryWriter) -> None:
    try:
        archive = tarfile.open(  # noqa: SIM115 (closed below; it owns no file)
            fileobj=cast("IO[bytes]", stream), mode="r:", tarinfo=BoundedTarInfo
        )
        while (member := archive.next()) is not None:
            archive.members.clear()  # type: ignore[attr-defined]  # else every header stays in memory
            writer.apply(member, archive)
        archive.close()
    except tarfile.TarError as err:
        raise RunError(
            f"{stream.what} is not a valid tar archive: {err}", "Pull or build it again."
        ) from err


def _apply_layer(
    root: ContainedRoot,
    image: Image,
    layer: Layer,
    *,
    diff_id: str | None,
    limit: int,
    progress: Progress,
) -> int:
    """Write one layer's entries over ``root``; the uncompressed bytes it held."""
    path = blob_path(image.layout, layer.digest)
    if not path.is_file():
        raise RunError(f"layer {layer.digest} is missing from {image.layout}", "Pull it again.")
    with path.open("rb") as raw:
        stream = LayerStream(
            raw, digest=layer.digest, size=layer.size, diff_id=diff_id, limit=limit
        )
        writer = EntryWriter(root, stream)
        try:
            _apply_entries(stream, writer)
            unpacked = stream.verify()
        finally:
            stream.close()
    if writer.skipped:
        progress.info(
            f"{stream.what}: skipped {len(writer.skipped)} device node(s) or fifo(s) "
            f"({writer.skipped[0]}, …): a container gets /dev from its runtime"
        )
    return unpacked
