"""Reading and writing OCI image layouts (index.json, oci-layout, blobs/sha256/...).

Manifests are handled as bytes: their digest is the sha256 of exactly those bytes, so they
are never parsed and re-serialised on the way to or from a registry.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cog.errors import RegistryError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
REF_NAME = "org.opencontainers.image.ref.name"

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: tuple[str, str, str] | None = None  # os, architecture, variant ("" if none)

    @classmethod
    def from_json(cls, data: object, where: str) -> Descriptor:
        if not isinstance(data, dict):
            raise RegistryError(f"{where}: a descriptor is not a JSON object", None)
        digest, size, media = data.get("digest"), data.get("size"), data.get("mediaType", "")
        if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
            raise RegistryError(f"{where}: unsupported or malformed digest {digest!r}", None)
        if not isinstance(size, int) or size < 0 or not isinstance(media, str):
            raise RegistryError(f"{where}: descriptor {digest} has no valid size", None)
        plat = data.get("platform")
        platform = None
        if isinstance(plat, dict):
            platform = (
                str(plat.get("os", "")),
                str(plat.get("architecture", "")),
                str(plat.get("variant", "")),
            )
        return cls(media, digest, size, platform)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str) -> str:
    if not _DIGEST.fullmatch(digest):
        raise RegistryError(
            f"Unsupported digest {digest!r}", "Digests are sha256: and 64 lowercase hex digits."
        )
    return digest.removeprefix("sha256:")


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
    return OCI_INDEX if isinstance(data, dict) and "manifests" in data else OCI_MANIFEST


def referenced(body: bytes, media_type: str, where: str) -> list[Descriptor]:
    """What a manifest points at: child manifests of an index, else config then layers."""
    data = json.loads(body)
    if media_type in INDEX_TYPES:
        return [Descriptor.from_json(d, where) for d in data.get("manifests") or []]
    if media_type not in MANIFEST_TYPES:
        raise RegistryError(f"{where} has unsupported media type {media_type!r}", None)
    config = Descriptor.from_json(data.get("config"), where)
    return [config, *(Descriptor.from_json(d, where) for d in data.get("layers") or [])]


class LayoutReader:
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
