"""``cog pull``: an image from any registry into the content-addressed cache and an OCI
layout. Every manifest and blob is checked against its digest before it is kept.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cog.errors import FetchError, RegistryError
from cog.progress import Progress, phase
from cog.rules.cache import Cache
from cog.rules.oci import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MEDIA_INDEX,
    MEDIA_MANIFEST,
    Descriptor,
    OciLayout,
    check_digest,
    manifest_media_type,
    referenced,
    sha256_digest,
)

from ._api import RegistryClient, bounded_body
from ._parallel import run_parallel
from .reference import DEFAULT_TAG, Reference, parse_reference

_ACCEPT = ", ".join((MEDIA_MANIFEST, MEDIA_INDEX, DOCKER_MANIFEST, DOCKER_LIST))
_MAX_MANIFEST = 4 * 1024 * 1024
_CONCURRENCY = 5


@dataclass(frozen=True)
class PullResult:
    manifest_digest: str
    tag: str


def _parse_platform(platform: str) -> tuple[str, str, str]:
    parts = platform.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise RegistryError(
            f"Invalid platform {platform!r}", "Write it as OS/ARCH[/VARIANT], e.g. linux/amd64."
        )
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


class _Puller:
    def __init__(self, client: RegistryClient, ref: Reference, cache: Cache, progress: Progress):
        self._client, self._ref, self._cache, self._progress = client, ref, cache, progress
        self.blob_progress = progress  # the pull's phase while blobs are fetched
        self._scopes = (f"repository:{ref.repository}:pull",)

    def manifest(
        self, target: str, expected: str | None, size: int | None = None
    ) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of the manifest ``target``, digest-checked; read to
        its descriptor's ``size`` when an index named it, else to a 4 MiB ceiling."""
        resp = self._client.request(
            "GET",
            f"/v2/{self._ref.repository}/manifests/{target}",
            self._scopes,
            headers={"Accept": _ACCEPT},
            stream=True,
        )
        try:
            if resp.status_code == 404:
                raise RegistryError(
                    f"{self._ref.registry}/{self._ref.repository}:{target} does not exist",
                    "Check the image name and tag.",
                )
            if resp.status_code != 200:
                raise self._client.fail(resp, f"getting manifest {target}")
            if size is not None and size > _MAX_MANIFEST:
                raise RegistryError(
                    f"Manifest {target} from {self._ref.registry} is too large ({size} bytes)"
                )
            limit = _MAX_MANIFEST if size is None else size
            what = f"manifest {target}"
            exact = size is not None
            body = b"".join(bounded_body(resp, limit, what, self._ref.registry, exact=exact))
        finally:
            resp.close()
        digest = sha256_digest(body)
        claimed = expected or resp.headers.get("Docker-Content-Digest")
        if claimed and claimed.startswith("sha256:") and claimed != digest:
            raise RegistryError(
                f"Manifest {target} from {self._ref.registry} has digest {digest}, not {claimed}",
                "The registry or something between it and you altered the manifest.",
            )
        fallback = resp.headers.get("Content-Type", "").split(";")[0].strip() or None
        media = manifest_media_type(body, fallback, f"manifest {target}")
        return body, media, digest

    def choose(self, body: bytes, media: str, platform: str) -> Descriptor:
        wanted = _parse_platform(platform)
        children = referenced(body, media, "image index")
        for child in children:
            if child.platform is None:
                continue
            os_, arch, variant = child.platform
            if (os_, arch) == wanted[:2] and (not wanted[2] or variant == wanted[2]):
                return child
        offered = ", ".join("/".join(p for p in c.platform if p) for c in children if c.platform)
        raise RegistryError(
            f"{self._ref} has no image for {platform} (it has: {offered or 'none'})",
            "Pull with a platform the image was built for.",
        )

    def blob(self, desc: Descriptor) -> Path:
        hexdigest = check_digest(desc.digest)
        cached = self._cache.blob_path(hexdigest)
        task = self.blob_progress.task(desc.digest[7:19], total=desc.size)
        if cached is not None:
            task.finish(f"{desc.digest[7:19]} cached")
            return cached
        resp = self._client.request(
            "GET", f"/v2/{self._ref.repository}/blobs/{desc.digest}", self._scopes, stream=True
        )
        if resp.status_code != 200:
            resp.close()
            raise self._client.fail(resp, f"getting blob {desc.digest}")
        try:
            with self._cache.writer(hexdigest, what=f"blob {desc.digest}") as out:
                for block in bounded_body(resp, desc.size, desc.digest, self._ref.registry):
                    out.write(block)
                    task.advance(len(block))
        except FetchError as err:
            raise RegistryError(
                f"Blob {desc.digest} from {self._ref.registry} does not match its digest",
                "The registry or something between it and you altered the blob; pull again.",
            ) from err
        except OSError as err:
            raise_if_disk_full(err, self._cache.root)
            raise
        finally:
            resp.close()
        task.finish(f"{desc.digest[7:19]} pulled")
        path = self._cache.blob_path(hexdigest)
        assert path is not None
        return path


def pull(
    reference: str | Reference,
    dest_layout: Path,
    *,
    cache_dir: Path | None,
    platform: str = "linux/amd64",
    insecure: bool = False,
    ca_file: Path | None = None,
    progress: Progress,
    env: Mapping[str, str] | None = None,
    tag_as: str | None = None,
) -> PullResult:
    """Pull ``reference`` (an index resolves to ``platform``'s image) into the cache and
    into the OCI layout ``dest_layout``, tagged ``tag_as`` or else with the reference's tag
    (``latest`` for a reference by digest alone).
    """
    env = os.environ if env is None else env
    ref = reference if isinstance(reference, Reference) else parse_reference(reference, env=env)
    cache = Cache(cache_dir)
    client = RegistryClient(
        ref.registry, insecure=insecure, ca_file=ca_file, pool_size=_CONCURRENCY + 2, env=env
    )
    try:
        client.connect((f"repository:{ref.repository}:pull",))
        puller = _Puller(client, ref, cache, progress)
        body, media, digest = puller.manifest(ref.target, ref.digest)
        if media in INDEX_TYPES:
            child = puller.choose(body, media, platform)
            body, media, digest = puller.manifest(child.digest, child.digest, child.size)
        blobs = referenced(body, media, f"manifest {digest}")
        total = sum(d.size for d in blobs)
        with phase(progress, f"Pulling {ref}", done="pulled", noun="blobs", total=total) as p:
            puller.blob_progress = p
            paths = run_parallel(puller.blob, blobs, _CONCURRENCY)
    finally:
        client.close()
    tag = tag_as or ref.tag or DEFAULT_TAG
    try:
        cache.put_bytes(body)
        layout = OciLayout(dest_layout)
        layout.init()
        for desc, path in zip(blobs, paths, strict=True):
            layout.add_blob(path, desc.media_type, desc.digest, desc.size)
        layout.add_bytes(body, media)
        layout.tag(tag, digest)
    except OSError as err:
        raise_if_disk_full(err, dest_layout)
        raise
    return PullResult(manifest_digest=digest, tag=tag)


def raise_if_disk_full(err: OSError, where: Path) -> None:
    """A full disk named as such (partial files are already gone); other errors pass."""
    if err.errno != errno.ENOSPC:
        return
    raise RegistryError(
        f"no space left on {where} while pulling",
        "Free some space there (or point COG_CACHE_DIR at a larger disk) and pull again; "
        "the blobs already pulled are kept.",
    ) from err
