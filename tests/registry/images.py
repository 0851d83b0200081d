"""Tiny OCI layouts for registry tests: random layer blobs of chosen sizes."""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cog.progress import NullProgress
from cog.rules.registry import push
from cog.rules.registry.image_push import PushResult

LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG = "application/vnd.oci.image.config.v1+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass(frozen=True)
class TestImage:
    __test__ = False  # not a pytest class

    layout: Path
    manifest_digest: str
    config_digest: str
    layer_digests: tuple[str, ...]


def _put(layout: Path, data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (blobs / hexdigest).write_bytes(data)
    return f"sha256:{hexdigest}"


def _put_file_random(layout: Path, size: int) -> tuple[str, int]:
    """A gzip stream (stored blocks, so it costs no CPU) of ``size`` random bytes, written in
    1 MiB pieces. Real gzip, so skopeo copies it as is instead of compressing it.
    """
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    tmp = blobs / f".tmp-{os.getpid()}"
    digest = hashlib.sha256()
    written = 0
    packer = zlib.compressobj(level=0, wbits=31)
    with tmp.open("wb") as out:
        left = size
        while left:
            piece = packer.compress(os.urandom(min(left, 1 << 20)))
            left -= min(left, 1 << 20)
            if not left:
                piece += packer.flush()
            digest.update(piece)
            out.write(piece)
            written += len(piece)
    tmp.rename(blobs / digest.hexdigest())
    return f"sha256:{digest.hexdigest()}", written


def _write_index(layout: Path, entries: list[dict[str, object]]) -> None:
    (layout / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}
    (layout / "index.json").write_text(json.dumps(index))


def _manifest(
    layout: Path, layers: list[tuple[str, int]], arch: str = "amd64"
) -> tuple[bytes, str, str]:
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [d for d, _ in layers]},
        },
        indent=1,
    ).encode()
    config_digest = _put(layout, config)
    # Deliberately not canonical JSON (indented, keys unsorted): a client that re-serialises
    # the manifest would change its digest.
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": LAYER, "digest": d, "size": s} for d, s in layers],
        },
        indent=3,
    ).encode()
    return manifest, _put(layout, manifest), config_digest


def make_image(
    layout: Path, sizes: list[int], *, reuse: list[tuple[str, int]] | None = None, tag: str = "v1"
) -> TestImage:
    """An image of ``reuse`` layers (already in ``layout``) then new random layers of ``sizes``."""
    layers = list(reuse or []) + [_put_file_random(layout, size) for size in sizes]
    manifest, digest, config_digest = _manifest(layout, layers)
    entry = {
        "mediaType": MANIFEST,
        "digest": digest,
        "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    _write_index(layout, [entry])
    return TestImage(layout, digest, config_digest, tuple(d for d, _ in layers))


def layer_sizes(image: TestImage) -> list[tuple[str, int]]:
    blobs = image.layout / "blobs" / "sha256"
    return [(d, (blobs / d[7:]).stat().st_size) for d in image.layer_digests]


def make_index(layout: Path, sizes: list[int]) -> tuple[str, dict[str, TestImage]]:
    """A two-platform image index (linux/amd64, linux/arm64); returns its digest and images."""
    images: dict[str, TestImage] = {}
    entries: list[dict[str, object]] = []
    for arch in ("amd64", "arm64"):
        layers = [_put_file_random(layout, size) for size in sizes]
        manifest, digest, config_digest = _manifest(layout, layers, arch)
        images[arch] = TestImage(layout, digest, config_digest, tuple(d for d, _ in layers))
        entries.append(
            {
                "mediaType": MANIFEST,
                "digest": digest,
                "size": len(manifest),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    index = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}).encode()
    index_digest = _put(layout, index)
    _write_index(
        layout,
        [
            {
                "mediaType": INDEX,
                "digest": index_digest,
                "size": len(index),
                "annotations": {"org.opencontainers.image.ref.name": "multi"},
            }
        ],
    )
    return index_digest, images


def push_image(image: TestImage, reference: str, env: dict[str, str], **options: Any) -> PushResult:
    """Push a test image as most tests do: no progress output, the test's docker config."""
    return push(
        image.layout, image.manifest_digest, reference, progress=NullProgress(), env=env, **options
    )
