"""The OCI model: media types, digests, descriptors, and the image layout on disk.

One module for what the build (rules/image_config.py), the registry client (rules/registry/),
its referrers and the image reader share: every media type and annotation name is
defined here once, every descriptor is a :class:`Descriptor`, every digest is checked by
:func:`is_digest`.

The layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) is written by
:class:`OciLayout`: blobs are content-addressed and written by rename, and
``index.json`` is replaced in one rename after every blob it names is in place, so a
reader (skopeo, umoci, a concurrent push) never sees a half-written image. Tags are
``org.opencontainers.image.ref.name`` annotations on the index's manifest descriptors, as
skopeo's ``oci:DIR:TAG`` reads them. :class:`LayoutReader` reads one back for a push:
manifests are handled as bytes, their digest the sha256 of exactly those bytes, so they
are never parsed and re-serialised on the way to or from a registry.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cog.errors import RegistryError

from ._files import atomic_write

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
MEDIA_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
MEDIA_EMPTY = "application/vnd.oci.empty.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
INDEX_TYPES = frozenset({MEDIA_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({MEDIA_MANIFEST, DOCKER_MANIFEST})

REF_NAME = "org.opencontainers.image.ref.name"
TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class Architecture:
    """One architecture an image is built for, by each name the tools give it."""

    oci: str  # "amd64": the OCI platform's (and Debian's) name
    machine: str  # "x86_64": uname -m, wheel and manylinux tags
    triplet: str  # "x86_64-linux-gnu": Debian's multiarch directory
    loader: str  # "ld-linux-x86-64.so.2": the dynamic loader under /lib64 or /lib


ARCHITECTURES: Mapping[str, Architecture] = {
    a.oci: a
    for a in (
        Architecture("amd64", "x86_64", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
        Architecture("arm64", "aarch64", "aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
    )
}

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


def is_digest(digest: str) -> bool:
    """Whether ``digest`` is ``sha256:`` and 64 lowercase hex digits, the only kind used."""
    return _DIGEST.fullmatch(digest) is not None


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    """The hex part of ``digest``, which came from a registry, a layout or a user."""
    if not is_digest(digest):
        raise RegistryError(
            f"Unsupported digest {digest!r}", "Digests are sha256: and 64 lowercase hex digits."
        )
    return digest.removeprefix("sha256:")


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor: what a manifest, an index or a referrers list names."""

    media_type: str
    digest: str  # "sha256:<hex>"
    size: int
    platform: tuple[str, str, str] | None = None  # os, architecture, variant ("" if none)
    artifact_type: str | None = None
    annotations: Mapping[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        }
        if self.platform is not None:
            os_, architecture, variant = self.platform
            data["platform"] = {"os": os_, "architecture": architecture}
            if variant:
                data["platform"]["variant"] = variant
        if self.artifact_type is not None:
            data["artifactType"] = self.artifact_type
        if self.annotations:
            data["annotations"] = dict(self.annotations)
        return data

    @classmethod
    def from_json(cls, data: object, where: str, *, media_type: str = "") -> Descriptor:
        """One read from untrusted JSON, checked; ``media_type`` when it names none."""
        if not isinstance(data, dict):
            raise RegistryError(f"{where}: a descriptor is not a JSON object", None)
        digest, size, media = data.get("digest"), data.get("size"), data.get("mediaType")
        if not isinstance(digest, str) or not is_digest(digest):
            raise RegistryError(f"{where}: unsupported or malformed digest {digest!r}", None)
        if media is None or media == "":
            media = media_type
        if not isinstance(size, int) or size < 0 or not isinstance(media, str):
            raise RegistryError(f"{where}: descriptor {digest} has no valid size", None)
        plat, kind, notes = data.get("platform"), data.get("artifactType"), data.get("annotations")
        platform = None
        if isinstance(plat, dict):
            platform = (
                str(plat.get("os", "")),
                str(plat.get("architecture", "")),
                str(plat.get("variant", "")),
            )
        return cls(
            media,
            digest,
            size,
            platform,
            str(kind) if kind is not None else None,
            {str(k): str(v) for k, v in notes.items()} if isinstance(notes, dict) else {},
        )


def manifest_media_type(body: bytes, fallback: str | None, where: str) -> str:
    try:
        data = json.loads(body)
    except ValueError as err:
        raise RegistryError(f"{where} is not JSON: {err}", None) from err
    media = data.get("mediaType") if isinstance(data, dict) else None
    if isinstance(media, str) and media:
        return media
    if fallback:
        return fallback
    return MEDIA_INDEX if isinstance(data, dict) and "manifests" in data else MEDIA_MANIFEST


def referenced(body: bytes, media_type: str, where: str) -> list[Descriptor]:
    """What a manifest points at: child manifests of an index, else config then layers."""
    data = json.loads(body)
    if media_type in INDEX_TYPES:
        return [Descriptor.from_json(d, where) for d in data.get("manifests") or []]
    if media_type not in MANIFEST_TYPES:
        raise RegistryError(f"{where} has unsupported media type {media_type!r}", None)
    config = Descriptor.from_json(data.get("config"), where)
    return [config, *(Descriptor.from_json(d, where) for d in data.get("layers") or [])]


class OciLayout:
    """An image layout the build writes (and a pull writes into)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blobs = path / "blobs" / "sha256"

    def init(self) -> None:
        self.blobs.mkdir(parents=True, exist_ok=True)
        marker = self.path / "oci-layout"
        if not marker.exists():
            atomic_write(marker, canonical_json({"imageLayoutVersion": "1.0.0"}))
        if not (self.path / "index.json").exists():
            self._write_index([])

    def blob(self, digest: str) -> Path:
        if not is_digest(digest):
            raise ValueError(f"unsupported digest {digest!r}")
        return self.blobs / digest.removeprefix("sha256:")

    def add_blob(self, source: Path, media_type: str, digest: str, size: int) -> Descriptor:
        """Put a verified file (a cache blob) into the layout: hard link when possible."""
        target = self.blob(digest)
        if not target.exists():
            temp = self.blobs / f".tmp-{secrets.token_hex(8)}"
            try:
                try:
                    os.link(source, temp)
                except OSError:
                    shutil.copyfile(source, temp)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)
        return Descriptor(media_type, digest, size)

    def add_bytes(self, data: bytes, media_type: str) -> Descriptor:
        digest = sha256_digest(data)
        target = self.blob(digest)
        if not target.exists():
            atomic_write(target, data)
        return Descriptor(media_type, digest, len(data))

    def write_manifest(
        self,
        config: Descriptor,
        layers: list[Descriptor],
        annotations: dict[str, str] | None = None,
    ) -> str:
        """Write the manifest blob; return its digest."""
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": config.to_json(),
            "layers": [layer.to_json() for layer in layers],
        }
        if annotations:
            manifest["annotations"] = annotations
        return self.add_bytes(canonical_json(manifest), MEDIA_MANIFEST).digest

    def read_index(self) -> dict[str, Any]:
        index: dict[str, Any] = json.loads((self.path / "index.json").read_bytes())
        return index

    def tag(self, name: str, digest: str, platform: dict[str, str] | None = None) -> None:
        """Point ``name`` at the manifest blob ``digest`` (replacing what it named before)."""
        data = self.blob(digest).read_bytes()
        media_type = json.loads(data).get("mediaType", MEDIA_MANIFEST)
        manifests = [
            m
            for m in self.read_index().get("manifests", [])
            if m.get("annotations", {}).get(REF_NAME) != name
        ]
        entry = Descriptor(media_type, digest, len(data), annotations={REF_NAME: name}).to_json()
        if platform:
            entry["platform"] = platform
        manifests.append(entry)
        manifests.sort(key=lambda m: m["annotations"][REF_NAME] if "annotations" in m else "")
        self._write_index(manifests)

    def resolve(self, name: str) -> str | None:
        for m in self.read_index().get("manifests", []):
            if m.get("annotations", {}).get(REF_NAME) == name:
                return str(m["digest"])
        return None

    def referenced_blobs(self) -> set[str]:
        keep: set[str] = set()
        for m in self.read_index().get("manifests", []):
            keep.add(m["digest"])
            with contextlib.suppress(FileNotFoundError):
                manifest = json.loads(self.blob(m["digest"]).read_bytes())
                keep.add(manifest["config"]["digest"])
                keep.update(layer["digest"] for layer in manifest.get("layers", []))
        return keep

    def collect_garbage(self) -> int:
        """Remove blobs no tag reaches (earlier builds of this project)."""
        keep = {d.partition(":")[2] for d in self.referenced_blobs()}
        removed = 0
        for blob in self.blobs.iterdir():
            if blob.name not in keep and not blob.name.startswith(".tmp-"):
                blob.unlink(missing_ok=True)
                removed += 1
        return removed

    def _write_index(self, manifests: list[dict[str, Any]]) -> None:
        index = {"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": manifests}
        atomic_write(self.path / "index.json", canonical_json(index))


class LayoutReader:
    """An image layout a push reads: every blob checked against its digest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        if not (root / "index.json").is_file():
            raise RegistryError(
                f"{root} is not an OCI image layout (no index.json)",
                "Build the image first (cog build), or give the layout's directory.",
            )

    def blob_path(self, digest: str) -> Path:
        path = self.root / "blobs" / "sha256" / check_digest(digest)
        if not path.is_file():
            raise RegistryError(
                f"Blob {digest} is missing from the image layout {self.root}",
                "The layout is incomplete: build the image again.",
            )
        return path

    def read_verified(self, digest: str) -> bytes:
        body = self.blob_path(digest).read_bytes()
        if sha256_digest(body) != digest:
            raise RegistryError(
                f"Blob {digest} in {self.root} does not match its digest",
                "The layout was modified after it was built: build the image again.",
            )
        return body

    def index_media_type(self, digest: str) -> str | None:
        index = json.loads((self.root / "index.json").read_bytes())
        for entry in index.get("manifests") or []:
            if isinstance(entry, dict) and entry.get("digest") == digest:
                media = entry.get("mediaType")
                return media if isinstance(media, str) else None
        return None
