"""An OCI image layout on disk: ``oci-layout``, ``index.json``, ``blobs/sha256/...``.

Blobs are content-addressed and written by rename, and ``index.json`` is replaced in one
rename after every blob it names is in place, so a reader (skopeo, umoci, a concurrent
push) never sees a half-written image. Tags are ``org.opencontainers.image.ref.name``
annotations on the index's manifest descriptors, as skopeo's ``oci:DIR:TAG`` reads them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cog.rules._files import atomic_write

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str  # "sha256:<hex>"
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


class OciLayout:
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
        algo, _, hexdigest = digest.partition(":")
        if algo != "sha256" or len(hexdigest) != 64:
            raise ValueError(f"unsupported digest {digest!r}")
        return self.blobs / hexdigest

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
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
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
        manifest = Descriptor(media_type, digest, len(data))
        manifests = [
            m
            for m in self.read_index().get("manifests", [])
            if m.get("annotations", {}).get(REF_NAME) != name
        ]
        entry = manifest.to_json()
        entry["annotations"] = {REF_NAME: name}
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
