"""Artifacts attached to an image as OCI 1.1 referrers: the image's cog.lock and its SBOM.

Each artifact is an OCI image manifest with an ``artifactType``, the empty config
(``{}``), one layer holding the artifact's bytes and a ``subject`` naming the image. A
registry that implements the referrers API says so by answering ``OCI-Subject`` to the
manifest PUT and indexes it itself; for one that does not (distribution 2.x), the client
keeps the referrers tag schema: the tag ``sha256-<hex of the subject>`` holds an OCI index
of the referrers, updated by read-modify-write. Listing uses ``GET /v2/<name>/referrers/
<digest>`` and falls back to that tag when the registry answers 404.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cog.errors import RegistryError
from cog.rules.oci import (
    MEDIA_EMPTY,
    MEDIA_INDEX,
    MEDIA_MANIFEST,
    TITLE,
    Descriptor,
    LayoutReader,
    canonical_json,
    check_digest,
    manifest_media_type,
    sha256_digest,
)

from ._api import RegistryClient, RegistryUnreachableError
from .reference import Reference, parse_reference

COG_LOCK_ARTIFACT_TYPE = "application/vnd.cog.lock.v1+toml"
SPDX_ARTIFACT_TYPE = "application/spdx+json"
EMPTY_DATA = b"{}"
EMPTY_DIGEST = sha256_digest(EMPTY_DATA)
_MAX_ARTIFACT = 64 * 1024 * 1024
_GET_ATTEMPTS = 3
_PUT_ATTEMPTS = 3
_TAG_SCHEMA_READS = 5  # each but the last followed by a write when entries are missing


@dataclass(frozen=True)
class Artifact:
    artifact_type: str
    media_type: str
    data: bytes
    annotations: dict[str, str] = field(default_factory=dict)


def lock_and_sbom(lock_text: str, sbom: bytes) -> list[Artifact]:
    """The two artifacts a build attaches: cog.lock and the SPDX SBOM."""
    lock_title, sbom_title = {TITLE: "cog.lock"}, {TITLE: "sbom.spdx.json"}
    return [
        Artifact(COG_LOCK_ARTIFACT_TYPE, COG_LOCK_ARTIFACT_TYPE, lock_text.encode(), lock_title),
        Artifact(SPDX_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE, sbom, sbom_title),
    ]


def _reference(ref: str | Reference, env: Mapping[str, str]) -> Reference:
    return ref if isinstance(ref, Reference) else parse_reference(ref, env=env)


def _digest_from_json(value: object) -> str:
    """A digest read from JSON, checked before it goes into a URL."""
    text = str(value)
    check_digest(text)
    return text


def referrers_tag(subject_digest: str) -> str:
    return "sha256-" + check_digest(subject_digest)


@contextmanager
def _connected(
    ref: Reference, push: bool, insecure: bool, ca_file: Path | None, env: Mapping[str, str]
) -> Iterator[_Repo]:
    client = RegistryClient(ref.registry, insecure=insecure, ca_file=ca_file, env=env)
    scope = f"repository:{ref.repository}:{'pull,push' if push else 'pull'}"
    try:
        client.connect((scope,))
        yield _Repo(client, ref, (scope,))
    finally:
        client.close()


class _Repo:
    """The calls of this module against one repository."""

    def __init__(self, client: RegistryClient, ref: Reference, scopes: tuple[str, ...]) -> None:
        self.client, self.ref, self.scopes = client, ref, scopes
        self.base = f"/v2/{ref.repository}"

    def put_blob(self, data: bytes) -> str:
        digest = sha256_digest(data)
        head = self.client.request("HEAD", f"{self.base}/blobs/{digest}", self.scopes)
        head.close()
        if head.status_code == 200:
            return digest
        start = self.client.request(
            "POST", f"{self.base}/blobs/uploads/", self.scopes, headers={"Content-Length": "0"}
        )
        start.close()
        location = start.headers.get("Location")
        if start.status_code != 202 or not location:
            raise self.client.fail(start, f"starting an upload to {self.ref.repository}")
        url = self.client.url(location)
        url += ("&" if "?" in url else "?") + "digest=" + quote(digest, safe="")
        resp = self.client.request(
            "PUT",
            url,
            self.scopes,
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        resp.close()
        if resp.status_code != 201:
            raise self.client.fail(resp, f"uploading blob {digest} to {self.ref.repository}")
        return digest

    def put_manifest(self, target: str, body: bytes, media_type: str) -> str | None:
        """PUT a manifest; returns the ``OCI-Subject`` header the registry answered."""
        resp = self.client.request(
            "PUT",
            f"{self.base}/manifests/{target}",
            self.scopes,
            body=body,
            headers={"Content-Type": media_type},
        )
        resp.close()
        if resp.status_code not in (200, 201):
            raise self.client.fail(resp, f"putting manifest {self.ref.repository}:{target}")
        return resp.headers.get("OCI-Subject")

    def get(self, path: str, accept: str, what: str, *, missing_ok: bool) -> bytes | None:
        for attempt in range(_GET_ATTEMPTS):
            resp = self.client.request(
                "GET", path, self.scopes, headers={"Accept": accept}, stream=True
            )
            # distribution answers 500 to a read racing a write of the same tag.
            if resp.status_code < 500 or attempt + 1 == _GET_ATTEMPTS:
                break
            resp.close()
            time.sleep(0.05 * (attempt + 1))
        try:
            if resp.status_code == 404 and missing_ok:
                return None
            if resp.status_code != 200:
                raise self.client.fail(resp, f"getting {what}")
            body = resp.raw.read(_MAX_ARTIFACT + 1, decode_content=True)
        finally:
            resp.close()
        if len(body) > _MAX_ARTIFACT:
            raise RegistryError(f"{what} on {self.client.registry} is too large", None)
        return bytes(body)

    def get_verified(self, kind: str, digest: str, accept: str) -> bytes:
        body = self.get(
            f"{self.base}/{kind}/{digest}", accept, f"{kind[:-1]} {digest}", missing_ok=False
        )
        assert body is not None
        if sha256_digest(body) != digest:
            raise RegistryError(
                f"{kind[:-1].capitalize()} {digest} from {self.client.registry} does not "
                "match its digest",
                "The registry or something between it and you altered it; try again.",
            )
        return body


def _artifact_manifest(artifact: Artifact, blob_digest: str, subject: dict[str, Any]) -> bytes:
    layer: dict[str, Any] = {
        "mediaType": artifact.media_type,
        "digest": blob_digest,
        "size": len(artifact.data),
    }
    if TITLE in artifact.annotations:
        layer["annotations"] = {TITLE: artifact.annotations[TITLE]}
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "artifactType": artifact.artifact_type,
        "config": {
            "mediaType": MEDIA_EMPTY,
            "digest": EMPTY_DIGEST,
            "size": len(EMPTY_DATA),
            "data": "e30=",  # base64 of {}: readers need not fetch the empty config
        },
        "layers": [layer],
        "subject": subject,
    }
    if artifact.annotations:
        manifest["annotations"] = dict(artifact.annotations)
    return canonical_json(manifest)


def _index_entries(body: bytes | None, where: str) -> list[Descriptor]:
    if body is None:
        return []
    try:
        data = json.loads(body)
    except ValueError as err:
        raise RegistryError(f"{where} is not JSON: {err}", None) from err
    if not isinstance(data, dict):
        raise RegistryError(f"{where} is not an OCI index", None)
    manifests = data.get("manifests") or []
    return [Descriptor.from_json(d, where, media_type=MEDIA_MANIFEST) for d in manifests]


def _index_body(entries: list[Descriptor]) -> bytes:
    return canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [d.to_json() for d in entries],
        }
    )


def _update_tag_schema(repo: _Repo, subject_digest: str, added: list[Descriptor]) -> None:
    """Add ``added`` to the subject's referrers tag. Another client may write the tag
    between our read and write, so the tag is read back and the update redone when an
    entry went missing.
    """
    tag = referrers_tag(subject_digest)
    path = f"{repo.base}/manifests/{tag}"
    where = f"{repo.ref.registry}/{repo.ref.repository}:{tag}"
    failed: RegistryError | None = None
    for attempt in range(_TAG_SCHEMA_READS):
        current = _index_entries(repo.get(path, MEDIA_INDEX, where, missing_ok=True), where)
        have = {d.digest for d in current}
        todo = [d for d in added if d.digest not in have]
        if not todo:
            return
        if attempt + 1 < _TAG_SCHEMA_READS:
            try:
                repo.put_manifest(tag, _index_body(current + todo), MEDIA_INDEX)
            except RegistryUnreachableError:
                raise
            except RegistryError as err:
                # distribution refuses an index whose manifests a concurrent identical
                # write is replacing; read again and retry.
                failed = err
    if failed is not None:
        raise failed
    raise RegistryError(
        f"Could not record the referrers of {subject_digest} in {where}: "
        "another client kept rewriting the tag",
        "Attach again once other pushes to this image have finished.",
    )


def _push_artifact(repo: _Repo, artifact: Artifact, digest: str, body: bytes) -> str | None:
    """Blobs, then the manifest; returns the registry's ``OCI-Subject`` answer."""
    for attempt in range(_PUT_ATTEMPTS):
        repo.put_blob(EMPTY_DATA)
        repo.put_blob(artifact.data)
        try:
            return repo.put_manifest(digest, body, MEDIA_MANIFEST)
        except RegistryUnreachableError:
            raise
        except RegistryError:
            # distribution calls a blob unknown while a concurrent push of the same blob
            # commits it; the blobs are checked again before the retry.
            if attempt + 1 == _PUT_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def attach(
    registry_ref: str | Reference,
    subject_digest: str,
    subject_size: int,
    subject_media_type: str,
    artifacts: list[Artifact],
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Push each artifact as a referrer of the image ``subject_digest`` in the repository
    of ``registry_ref``; returns the artifact manifests' digests, in order.

    The tag schema has no compare-and-swap: two clients attaching *different* artifacts
    to one image at the same moment can lose one. cog's artifacts are deterministic (the
    same image gives the same lock and SBOM bytes), so concurrent pushes of one image
    write the same entries.
    """
    env = os.environ if env is None else env
    ref = _reference(registry_ref, env)
    check_digest(subject_digest)
    subject = {"mediaType": subject_media_type, "digest": subject_digest, "size": subject_size}
    digests: list[str] = []
    fallback: list[Descriptor] = []
    with _connected(ref, True, insecure, ca_file, env) as repo:
        for artifact in artifacts:
            body = _artifact_manifest(artifact, sha256_digest(artifact.data), subject)
            digest = sha256_digest(body)
            answered = _push_artifact(repo, artifact, digest, body)
            digests.append(digest)
            if answered != subject_digest:
                # The registry does not index referrers itself: keep the tag schema.
                fallback.append(
                    Descriptor(
                        MEDIA_MANIFEST,
                        digest,
                        len(body),
                        artifact_type=artifact.artifact_type,
                        annotations=dict(artifact.annotations),
                    )
                )
        if fallback:
            _update_tag_schema(repo, subject_digest, fallback)
    return digests


def list_referrers(
    registry_ref: str | Reference,
    subject_digest: str,
    artifact_type: str | None = None,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Descriptor]:
    """The referrers of ``subject_digest`` (of ``artifact_type`` only, when given)."""
    env = os.environ if env is None else env
    ref = _reference(registry_ref, env)
    check_digest(subject_digest)
    with _connected(ref, False, insecure, ca_file, env) as repo:
        api = f"{repo.base}/referrers/{subject_digest}"
        if artifact_type:
            api += "?artifactType=" + quote(artifact_type, safe="")
        where = f"{ref.registry}/{ref.repository} referrers of {subject_digest}"
        body = repo.get(api, MEDIA_INDEX, where, missing_ok=True)
        if body is None:  # no referrers API: the tag schema
            tag = referrers_tag(subject_digest)
            where = f"{ref.registry}/{ref.repository}:{tag}"
            body = repo.get(f"{repo.base}/manifests/{tag}", MEDIA_INDEX, where, missing_ok=True)
        entries = _index_entries(body, where)
    # Filtered here too: a registry may ignore the artifactType query.
    return [d for d in entries if artifact_type is None or d.artifact_type == artifact_type]


def fetch_artifact(
    registry_ref: str | Reference,
    manifest_digest: str,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes an artifact manifest carries (its one layer), digest-checked."""
    env = os.environ if env is None else env
    ref = _reference(registry_ref, env)
    check_digest(manifest_digest)
    with _connected(ref, False, insecure, ca_file, env) as repo:
        body = repo.get_verified("manifests", manifest_digest, MEDIA_MANIFEST)
        layers = json.loads(body).get("layers") or []
        if len(layers) != 1 or not isinstance(layers[0], dict):
            raise RegistryError(
                f"Artifact {manifest_digest} in {ref.registry}/{ref.repository} has "
                f"{len(layers)} layers, not one",
                "It was not attached by cog; fetch it with an OCI artifact tool.",
            )
        return repo.get_verified("blobs", _digest_from_json(layers[0].get("digest")), "*/*")


def attach_lock_and_sbom(
    registry_ref: str | Reference,
    layout: Path,
    manifest_digest: str,
    lock_text: str,
    sbom: bytes,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """After ``cog push``: attach cog.lock and the SBOM to the pushed image, whose
    manifest (size, media type) is read from the build's OCI layout.
    """
    reader = LayoutReader(layout)
    body = reader.read_verified(manifest_digest)
    media = manifest_media_type(body, reader.index_media_type(manifest_digest), str(layout))
    return attach(
        registry_ref,
        manifest_digest,
        len(body),
        media,
        lock_and_sbom(lock_text, sbom),
        insecure=insecure,
        ca_file=ca_file,
        env=env,
    )


def fetch_attachments(
    registry_ref: str | Reference,
    subject_digest: str,
    dest_dir: Path,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """For ``cog pull --with-sbom``: the image's cog.lock and SBOM, written into
    ``dest_dir`` under their titles; returns artifact type → path (absent when the image
    has none of that type).
    """
    found: dict[str, Path] = {}
    options: dict[str, Any] = {"insecure": insecure, "ca_file": ca_file, "env": env}
    for kind, default_name in (
        (COG_LOCK_ARTIFACT_TYPE, "cog.lock"),
        (SPDX_ARTIFACT_TYPE, "sbom.spdx.json"),
    ):
        referrers = list_referrers(registry_ref, subject_digest, kind, **options)
        if not referrers:
            continue
        # The last attached wins: a re-push after a rebuild appends.
        chosen = referrers[-1]
        name = Path(chosen.annotations.get(TITLE, default_name)).name or default_name
        dest_dir.mkdir(parents=True, exist_ok=True)
        path = dest_dir / name
        path.write_bytes(fetch_artifact(registry_ref, chosen.digest, **options))
        found[kind] = path
    return found
