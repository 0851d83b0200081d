"""``cog push``: an OCI layout's image into a registry, sending only what is missing.

Blobs go first (layers in parallel, then the config), the manifest last, with its exact
bytes and media type, so the registry reports the digest the build printed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cog.errors import RegistryError
from cog.progress import Progress, phase
from cog.rules._files import default_cache_root
from cog.rules.oci import INDEX_TYPES, Descriptor, LayoutReader, manifest_media_type, referenced

from ._api import RegistryClient
from ._parallel import run_parallel
from ._record import PushRecord
from ._upload import BlobPusher, Outcome, UploadSettings
from .reference import Reference, parse_reference

MiB = 1024 * 1024
DEFAULT_CONCURRENCY = 5
DEFAULT_CHUNK_SIZE = 96 * MiB
DEFAULT_MULTIPART_THRESHOLD = 128 * MiB


@dataclass(frozen=True)
class PushResult:
    digest: str
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    mounted: tuple[str, ...]
    resumed: tuple[str, ...] = ()
    bytes_sent: int = 0


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    # As the reference: invalid values and values below 1 are ignored.
    try:
        value = int(env.get(name, ""))
    except ValueError:
        return default
    return value if value >= 1 else default


@dataclass(frozen=True)
class _Manifest:
    digest: str
    media_type: str
    body: bytes
    blobs: tuple[Descriptor, ...]  # config first, then layers
    children: tuple[_Manifest, ...]  # of an index


def _read_manifest(layout: LayoutReader, digest: str, fallback_type: str | None) -> _Manifest:
    body = layout.read_verified(digest)
    where = f"manifest {digest} in {layout.root}"
    media = manifest_media_type(body, fallback_type or layout.index_media_type(digest), where)
    refs = referenced(body, media, where)
    if media in INDEX_TYPES:
        children = tuple(_read_manifest(layout, d.digest, d.media_type) for d in refs)
        return _Manifest(digest, media, body, (), children)
    return _Manifest(digest, media, body, tuple(refs), ())


class _Pusher:
    def __init__(
        self,
        client: RegistryClient,
        ref: Reference,
        *,
        layout: LayoutReader,
        blobs: BlobPusher,
        concurrency: int,
        progress: Progress,
    ) -> None:
        self._client, self._ref, self._layout, self._blobs = client, ref, layout, blobs
        self._concurrency = concurrency
        self._progress = progress
        self.outcomes: dict[str, Outcome] = {}

    def _push_blob(self, desc: Descriptor) -> None:
        path = self._layout.blob_path(desc.digest)
        task = self._progress.task(f"{desc.digest[7:19]}", total=desc.size)
        self.outcomes[desc.digest] = self._blobs.push(desc, path, task)

    def push_image(self, manifest: _Manifest, tag: str | None) -> None:
        for child in manifest.children:
            self.push_image(child, None)
        if manifest.blobs:
            config, layers = manifest.blobs[0], manifest.blobs[1:]
            todo = [
                d
                for d in {d.digest: d for d in layers}.values()
                if d.digest not in self.outcomes and d.digest != config.digest
            ]
            run_parallel(self._push_blob, todo, self._concurrency)
            if config.digest not in self.outcomes:
                self._push_blob(config)
        self._put_manifest(manifest, tag or manifest.digest)

    def _put_manifest(self, manifest: _Manifest, target: str) -> None:
        repo = self._ref.repository
        resp = self._client.request(
            "PUT",
            f"/v2/{repo}/manifests/{target}",
            (f"repository:{repo}:pull,push",),
            body=manifest.body,
            headers={"Content-Type": manifest.media_type},
        )
        resp.close()
        if resp.status_code not in (200, 201):
            raise self._client.fail(resp, f"putting manifest {manifest.digest} as {repo}:{target}")
        echoed = resp.headers.get("Docker-Content-Digest")
        if echoed and echoed != manifest.digest:
            raise RegistryError(
                f"{self._client.registry} stored manifest {manifest.digest} as {echoed}",
                "The registry rewrote the manifest; push to a registry that keeps it as sent.",
            )


def _blob_sizes(manifest: _Manifest) -> dict[str, int]:
    sizes = {d.digest: d.size for d in manifest.blobs}
    for child in manifest.children:
        sizes.update(_blob_sizes(child))
    return sizes


def push(
    layout: Path,
    manifest_digest: str,
    reference: str | Reference,
    *,
    concurrency: int | None = None,
    chunk_size: int | None = None,
    multipart_threshold: int | None = None,
    insecure: bool = False,
    ca_file: Path | None = None,
    cache_dir: Path | None = None,
    progress: Progress,
    env: Mapping[str, str] | None = None,
) -> PushResult:
    """Push the image ``manifest_digest`` of the OCI layout ``layout`` to ``reference``.

    Settings left as None come from COG_PUSH_CONCURRENCY, COG_PUSH_DEFAULT_CHUNK_SIZE and
    COG_PUSH_MULTIPART_THRESHOLD, else the reference's defaults (5, 96 MiB, 128 MiB).
    """
    env = os.environ if env is None else env
    ref = reference if isinstance(reference, Reference) else parse_reference(reference, env=env)
    if ref.digest is not None and ref.digest != manifest_digest:
        raise RegistryError(
            f"Cannot push {manifest_digest} to {ref}: the reference names another digest",
            "Push to a tag, or to the image's own digest.",
        )
    reader = LayoutReader(layout)
    manifest = _read_manifest(reader, manifest_digest, None)
    workers = concurrency or _env_int(env, "COG_PUSH_CONCURRENCY", DEFAULT_CONCURRENCY)
    settings = UploadSettings(
        chunk_size=chunk_size or _env_int(env, "COG_PUSH_DEFAULT_CHUNK_SIZE", DEFAULT_CHUNK_SIZE),
        multipart_threshold=multipart_threshold
        or _env_int(env, "COG_PUSH_MULTIPART_THRESHOLD", DEFAULT_MULTIPART_THRESHOLD),
    )
    client = RegistryClient(
        ref.registry, insecure=insecure, ca_file=ca_file, pool_size=workers + 2, env=env
    )
    try:
        client.connect((f"repository:{ref.repository}:pull,push",))
        record = PushRecord(cache_dir or default_cache_root(env), ref.registry)
        blobs = BlobPusher(client, ref.repository, record, settings)
        total = sum(_blob_sizes(manifest).values())
        with phase(progress, f"Pushing {ref}", done="pushed", noun="blobs", total=total) as p:
            pusher = _Pusher(
                client, ref, layout=reader, blobs=blobs, concurrency=workers, progress=p
            )
            pusher.push_image(manifest, ref.tag)
    finally:
        client.close()
    done = pusher.outcomes
    return PushResult(
        digest=manifest_digest,
        uploaded=tuple(d for d, o in done.items() if o.how == "uploaded"),
        skipped=tuple(d for d, o in done.items() if o.how == "skipped"),
        mounted=tuple(d for d, o in done.items() if o.how == "mounted"),
        resumed=tuple(d for d, o in done.items() if o.resumed),
        bytes_sent=sum(o.bytes_sent for o in done.values()),
    )
