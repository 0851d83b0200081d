"""``build.base_image``: a registry image as the bottom of ours, instead of the Debian layer.

The image is pulled (engineer H's ``rules.registry.pull``) into the shared cache; its layers
are reused as they are (same blobs, same diff_ids), and its environment is kept under
ours. Which Python layout it has (Debian's ``/usr/bin/python3.X`` with dist-packages, or
python.org's ``/usr/local/bin/python3.X`` with site-packages) is read from its files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass

from cog.errors import BuildError
from cog.progress import Progress

from .cache import Cache, LayerRecord
from .oci import DOCKER_LAYER_GZIP, MEDIA_LAYER_GZIP, MEDIA_LAYER_TAR, MEDIA_LAYER_ZSTD, OciLayout

_LAYER_TYPES = {
    MEDIA_LAYER_GZIP: MEDIA_LAYER_GZIP,
    DOCKER_LAYER_GZIP: MEDIA_LAYER_GZIP,
    MEDIA_LAYER_ZSTD: MEDIA_LAYER_ZSTD,
    MEDIA_LAYER_TAR: MEDIA_LAYER_TAR,
}


@dataclass(frozen=True)
class BaseImage:
    reference: str
    manifest_digest: str
    layers: tuple[LayerRecord, ...]
    env: tuple[str, ...]  # "KEY=value", from the base image's config

    def rootfs_key(self) -> str:
        joined = ",".join(layer.digest for layer in self.layers)
        return hashlib.sha256(f"base-rootfs:{joined}".encode()).hexdigest()


def pull_base(reference: str, cache: Cache, arch: str, progress: Progress) -> BaseImage:
    from .registry import pull  # noqa: PLC0415  (the registry client loads only for a base image)

    work = cache.temp_dir("base")
    try:
        result = pull(
            reference,
            work / "layout",
            cache_dir=cache.root,
            platform=f"linux/{arch}",
            progress=progress,
        )
        layout = OciLayout(work / "layout")
        manifest = json.loads(layout.blob(result.manifest_digest).read_bytes())
        config = json.loads(layout.blob(manifest["config"]["digest"]).read_bytes())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    if len(diff_ids) != len(manifest.get("layers", [])):
        raise BuildError(f"base image {reference}: its config and manifest disagree on layers")
    records = []
    for layer, diff_id in zip(manifest["layers"], diff_ids, strict=True):
        media_type = _LAYER_TYPES.get(layer["mediaType"])
        if media_type is None:
            raise BuildError(
                f"base image {reference} has a layer of type {layer['mediaType']}",
                "Use a base image whose layers are plain OCI or Docker tar layers.",
            )
        records.append(
            LayerRecord(
                digest=layer["digest"].partition(":")[2],
                diff_id=diff_id.partition(":")[2],
                size=int(layer["size"]),
                description=f"FROM {reference}",
                media_type=media_type,
            )
        )
    env = tuple(config.get("config", {}).get("Env") or ())
    return BaseImage(reference, result.manifest_digest, tuple(records), env)
