"""Reading an image out of an OCI image layout: index, manifest and config.

Only what running an image needs; writing layouts is the build rules' business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cog.errors import RunError
from cog.rules.oci import INDEX_TYPES, MEDIA_MANIFEST, REF_NAME, is_digest


@dataclass(frozen=True)
class Layer:
    digest: str
    media_type: str
    size: int


@dataclass(frozen=True)
class ImageConfig:
    """The parts of an image config a container is started from."""

    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    working_dir: str = "/"
    labels: dict[str, str] = field(default_factory=dict)
    diff_ids: tuple[str, ...] = ()
    architecture: str = "amd64"

    def env_dict(self) -> dict[str, str]:
        pairs = (entry.partition("=") for entry in self.env)
        return {name: value for name, _, value in pairs}


@dataclass(frozen=True)
class Image:
    layout: Path
    manifest_digest: str
    layers: tuple[Layer, ...]
    config: ImageConfig

    @property
    def is_cog_image(self) -> bool:
        return "run.cog.version" in self.config.labels or "run.cog.config" in self.config.labels


def blob_path(layout: Path, digest: str) -> Path:
    if not is_digest(digest):
        raise RunError(f"{layout}: unsupported digest {digest!r}")
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError as exc:
        raise RunError(
            f"{path} is missing: the image layout is incomplete",
            "Build or pull the image again.",
        ) from exc
    except json.JSONDecodeError as exc:
        raise RunError(
            f"{path} is not valid JSON: {exc}", "Build or pull the image again."
        ) from exc


def tags(layout: Path) -> dict[str, str]:
    """Tag name → manifest digest, from the layout's index.json annotations."""
    index = _read_json(layout / "index.json")
    found: dict[str, str] = {}
    for entry in index.get("manifests", []):
        name = entry.get("annotations", {}).get(REF_NAME)
        if name:
            found[name] = entry["digest"]
    return found


def resolve_tag(layout: Path, tag: str | None) -> str:
    """The manifest digest for ``tag``; without a tag, the layout's only image."""
    index = _read_json(layout / "index.json")
    manifests = index.get("manifests", [])
    if tag is None:
        if len(manifests) == 1:
            return str(manifests[0]["digest"])
        raise RunError(
            f"{layout} holds {len(manifests)} images",
            "Name one with oci:DIR:TAG.",
        )
    by_tag = tags(layout)
    if tag in by_tag:
        return by_tag[tag]
    known = ", ".join(sorted(by_tag)) or "none"
    raise RunError(f"no image tagged {tag!r} in {layout} (tags: {known})")


def load_image(layout: Path, manifest_digest: str) -> Image:
    manifest = _read_json(blob_path(layout, manifest_digest))
    media_type = manifest.get("mediaType", MEDIA_MANIFEST)
    if media_type in INDEX_TYPES:
        raise RunError(
            f"{manifest_digest} in {layout} is an index, not an image manifest",
            "Pull the image for one platform first (cog pull).",
        )
    layers = tuple(
        Layer(digest=entry["digest"], media_type=entry["mediaType"], size=int(entry["size"]))
        for entry in manifest.get("layers", [])
    )
    raw = _read_json(blob_path(layout, manifest["config"]["digest"]))
    container = raw.get("config") or {}
    config = ImageConfig(
        env=tuple(container.get("Env") or ()),
        entrypoint=tuple(container.get("Entrypoint") or ()),
        cmd=tuple(container.get("Cmd") or ()),
        working_dir=container.get("WorkingDir") or "/",
        labels=dict(container.get("Labels") or {}),
        diff_ids=tuple(raw.get("rootfs", {}).get("diff_ids", ())),
        architecture=raw.get("architecture", "amd64"),
    )
    return Image(layout=layout, manifest_digest=manifest_digest, layers=layers, config=config)
