"""Hand-crafted OCI layouts for the untrusted-image tests: any tar entry, any config."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from cog._container.image import load_image
from cog._container.rootfs import unpacked_rootfs


def member(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


Item = tarfile.TarInfo | tuple[str, bytes]


def tar(items: list[Item]) -> bytes:
    """A PAX tar of ``items``: TarInfo entries without data, (name, data) regular files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for item in items:
            if isinstance(item, tarfile.TarInfo):
                archive.addfile(item)
            else:
                info = member(item[0], size=len(item[1]))
                archive.addfile(info, io.BytesIO(item[1]))
    return buffer.getvalue()


def zstd_compress(data: bytes, *args: str) -> bytes:
    """``data`` through the zstd binary (its stream form: no content size in the header)."""
    done = subprocess.run(["zstd", "-q", "-c", *args], input=data, capture_output=True, check=True)
    return done.stdout


def _media_type(blob: bytes) -> str:
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return "application/vnd.oci.image.layer.v1.tar+zstd"
    if blob[:2] == b"\x1f\x8b":
        return "application/vnd.oci.image.layer.v1.tar+gzip"
    return "application/vnd.oci.image.layer.v1.tar"


@dataclass
class Layout:
    path: Path
    layers: list[tuple[bytes, str]] = field(default_factory=list)  # (blob, diff_id)

    def add(self, raw_tar: bytes, *, compress: bool = True) -> Layout:
        blob = gzip.compress(raw_tar, mtime=0) if compress else raw_tar
        self.layers.append((blob, "sha256:" + hashlib.sha256(raw_tar).hexdigest()))
        return self

    def add_zstd(self, raw_tar: bytes) -> Layout:
        self.layers.append(
            (zstd_compress(raw_tar), "sha256:" + hashlib.sha256(raw_tar).hexdigest())
        )
        return self

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        blobs = self.path / "blobs" / "sha256"
        blobs.mkdir(parents=True, exist_ok=True)
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}"

    def write(
        self, *, diff_ids: list[str] | None = None, labels: dict[str, str] | None = None
    ) -> str:
        """Blobs, config and manifest; an index.json tagging it ``latest``; its digest."""
        descriptors = [
            {"mediaType": _media_type(blob), "digest": self.put(blob), "size": len(blob)}
            for blob, _ in self.layers
        ]
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Cmd": ["true"], "Labels": labels or {}},
                "rootfs": {
                    "type": "layers",
                    "diff_ids": diff_ids if diff_ids is not None else [d for _, d in self.layers],
                },
            }
        ).encode()
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": self.put(config),
                    "size": len(config),
                },
                "layers": descriptors,
            }
        ).encode()
        digest = self.put(manifest)
        index = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": digest,
                    "size": len(manifest),
                    "annotations": {"org.opencontainers.image.ref.name": "latest"},
                }
            ],
        }
        (self.path / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        (self.path / "index.json").write_text(json.dumps(index))
        return digest

    def unpack(self, cache: Path, *, diff_ids: list[str] | None = None) -> Path:
        return unpacked_rootfs(load_image(self.path, self.write(diff_ids=diff_ids)), cache)


@dataclass(frozen=True)
class Canary:
    """A host directory holding ``a.txt`` that no unpack may change."""

    directory: Path

    @property
    def file(self) -> Path:
        return self.directory / "a.txt"

    def intact(self) -> bool:
        st = self.file.lstat()
        return (
            self.file.read_bytes() == b"host data"
            and stat.S_IMODE(st.st_mode) == 0o600
            and (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
            and sorted(os.listdir(self.directory)) == ["a.txt"]
        )


def make_canary(directory: Path) -> Canary:
    directory.mkdir()
    (directory / "a.txt").write_bytes(b"host data")
    (directory / "a.txt").chmod(0o600)
    return Canary(directory)


def symlink(name: str, target: str) -> tarfile.TarInfo:
    return member(name, tarfile.SYMTYPE, linkname=target)
