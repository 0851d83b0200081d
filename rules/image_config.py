"""The image config and manifest: a pure function of the layers and the project's settings.

Nothing here reads a clock or the host: ``created`` is the epoch (or SOURCE_DATE_EPOCH as
the caller passes it), so the same inputs give the same config and manifest digests.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .cache import Cache, LayerRecord
from .oci import MEDIA_CONFIG, Descriptor, OciLayout, canonical_json

MAX_LAYERS = 100
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
GPU_ENV = {"NVIDIA_VISIBLE_DEVICES": "all", "NVIDIA_DRIVER_CAPABILITIES": "compute,utility"}


@dataclass(frozen=True)
class ImageSettings:
    arch: str
    gpu: bool
    environment: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    created: int = 0  # seconds since the epoch
    workdir: str = "/src"
    cmd: tuple[str, ...] = ("python3", "-m", "cog.runtime")
    port: int = 5000
    base_env: tuple[str, ...] = ()  # a base image's Env, kept under ours


def timestamp(seconds: int) -> str:
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def environment(settings: ImageSettings) -> list[str]:
    env: dict[str, str] = {"PATH": DEFAULT_PATH}
    env.update(item.partition("=")[::2] for item in settings.base_env)
    env.update({"LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"})
    if settings.gpu:
        env.update(GPU_ENV)
    env.update(settings.environment)  # the user's values win, as ENV lines after ours would
    return [f"{k}={v}" for k, v in env.items()]


def image_config(settings: ImageSettings, layers: Sequence[LayerRecord]) -> dict[str, Any]:
    created = timestamp(settings.created)
    return {
        "architecture": settings.arch,
        "os": "linux",
        "created": created,
        "config": {
            "Env": environment(settings),
            "Cmd": list(settings.cmd),
            "WorkingDir": settings.workdir,
            "ExposedPorts": {f"{settings.port}/tcp": {}},
            "Labels": dict(sorted(settings.labels.items())),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{r.diff_id}" for r in layers]},
        "history": [
            {"created": created, "created_by": r.description, "comment": "cog build"}
            for r in layers
        ],
    }


def write_image(
    layout: OciLayout,
    cache: Cache,
    settings: ImageSettings,
    layers: Sequence[LayerRecord],
) -> tuple[str, int]:
    """Write blobs, config and manifest into the layout; return (manifest digest, size).

    The size is the sum of the compressed blobs a registry would store.
    """
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"{len(layers)} layers; at most {MAX_LAYERS} are allowed")
    layout.init()
    descriptors: list[Descriptor] = []
    for record in layers:
        blob = cache.blob_path(record.digest)
        assert blob is not None, f"layer {record.description} is missing from the cache"
        descriptors.append(
            layout.add_blob(blob, record.media_type, f"sha256:{record.digest}", record.size)
        )
    config = layout.add_bytes(canonical_json(image_config(settings, layers)), MEDIA_CONFIG)
    digest = layout.write_manifest(config, descriptors)
    size = config.size + sum(d.size for d in descriptors)
    return digest, size
