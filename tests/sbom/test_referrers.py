"""cog.lock and the SBOM attached to a pushed image as OCI referrers, on a real
docker-registry (distribution 2.8: no referrers API, so the referrers tag schema), read
back with oras-py as well as with our own client.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import oras.provider
import pytest
import requests

from cog.progress import NullProgress
from cog.rules.lockfile_text import loads
from cog.rules.oci import MEDIA_CONFIG, MEDIA_LAYER_GZIP, MEDIA_MANIFEST, OciLayout
from cog.rules.registry import push
from cog.rules.registry.referrers import (
    COG_LOCK_ARTIFACT_TYPE,
    EMPTY_DIGEST,
    SPDX_ARTIFACT_TYPE,
    Artifact,
    attach,
    attach_lock_and_sbom,
    fetch_artifact,
    fetch_attachments,
    list_referrers,
    lock_and_sbom,
    referrers_tag,
)
from cog.rules.sbom import dumps_sbom, sbom_from_lock

from .conftest import Registry
from .referrers_api import referrers_registry

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sbom"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"


def push_tiny_image(tmp_path: Path, ref: str, content: bytes = b"layer") -> tuple[str, int]:
    layout = OciLayout(tmp_path / "layout")
    layout.init()
    config = layout.add_bytes(
        json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode(),
        MEDIA_CONFIG,
    )
    layer = layout.add_bytes(content, MEDIA_LAYER_GZIP)
    digest = layout.write_manifest(config, [layer])
    push(layout.path, digest, ref, progress=NullProgress(), cache_dir=tmp_path / "cache", env={})
    return digest, layout.blob(digest).stat().st_size


def lock_and_sbom_bytes(digest: str) -> tuple[str, bytes]:
    text = (FIXTURES / "cog.lock").read_text(encoding="utf-8")
    doc = sbom_from_lock(loads(text, "cog.lock"), image_name="m", manifest_digest=digest, env={})
    return text, dumps_sbom(doc)


@pytest.fixture
def attached(registry: Registry, tmp_path: Path) -> tuple[str, str, list[str], str, bytes]:
    ref = f"{registry.host}/acme/model:1"
    digest, _ = push_tiny_image(tmp_path, ref)
    lock_text, sbom = lock_and_sbom_bytes(digest)
    digests = attach_lock_and_sbom(ref, tmp_path / "layout", digest, lock_text, sbom, env={})
    return ref, digest, digests, lock_text, sbom


@pytest.mark.integration
def test_attached_lock_and_sbom_read_back_with_oras(
    registry: Registry, attached: tuple[str, str, list[str], str, bytes]
) -> None:
    _, subject, digests, lock_text, sbom = attached
    client = oras.provider.Registry(hostname=registry.host, insecure=True)
    # distribution 2.8 has no referrers API: the answer is 404, and the tag schema is used.
    api = requests.get(f"{registry.url}/v2/acme/model/referrers/{subject}", timeout=5)
    assert api.status_code == 404
    index: dict[str, Any] = client.get_manifest(
        f"{registry.host}/acme/model:{referrers_tag(subject)}", allowed_media_type=[OCI_INDEX]
    )
    entries = index["manifests"]
    assert [e["digest"] for e in entries] == digests
    assert [e["artifactType"] for e in entries] == [COG_LOCK_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE]
    fetched = []
    for entry in entries:
        manifest = client.get_manifest(f"{registry.host}/acme/model@{entry['digest']}")
        assert manifest["subject"]["digest"] == subject
        assert manifest["artifactType"] == entry["artifactType"]
        assert manifest["config"]["digest"] == EMPTY_DIGEST
        (layer,) = manifest["layers"]
        blob = client.get_blob(f"{registry.host}/acme/model", layer["digest"])
        fetched.append(blob.content)
    assert fetched == [lock_text.encode(), sbom]


@pytest.mark.integration
def test_list_and_fetch_with_our_client(
    attached: tuple[str, str, list[str], str, bytes], tmp_path: Path
) -> None:
    ref, subject, digests, lock_text, sbom = attached
    everything = list_referrers(ref, subject, env={})
    assert [d.digest for d in everything] == digests
    (only_sbom,) = list_referrers(ref, subject, SPDX_ARTIFACT_TYPE, env={})
    assert only_sbom.digest == digests[1]
    assert only_sbom.annotations == {"org.opencontainers.image.title": "sbom.spdx.json"}
    assert fetch_artifact(ref, only_sbom.digest, env={}) == sbom
    found = fetch_attachments(ref, subject, tmp_path / "out", env={})
    assert found[COG_LOCK_ARTIFACT_TYPE].read_text(encoding="utf-8") == lock_text
    assert found[SPDX_ARTIFACT_TYPE].read_bytes() == sbom
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cog.lock", "sbom.spdx.json"]


@pytest.mark.integration
def test_attaching_again_keeps_one_entry_and_a_new_artifact_is_appended(
    attached: tuple[str, str, list[str], str, bytes],
) -> None:
    ref, subject, digests, lock_text, sbom = attached
    manifest = requests.get(
        f"http://{ref.split('/')[0]}/v2/acme/model/manifests/{subject}",
        headers={"Accept": MEDIA_MANIFEST},
        timeout=5,
    ).content
    again = attach(
        ref, subject, len(manifest), MEDIA_MANIFEST, lock_and_sbom(lock_text, sbom), env={}
    )
    assert again == digests
    note = Artifact("application/vnd.example.note", "text/plain", b"hello", {})
    (extra,) = attach(ref, subject, len(manifest), MEDIA_MANIFEST, [note], env={})
    listed = [d.digest for d in list_referrers(ref, subject, env={})]
    assert listed == [*digests, extra]


@pytest.mark.integration
def test_an_image_without_referrers_lists_none(registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.host}/acme/bare:1"
    digest, _ = push_tiny_image(tmp_path, ref, b"other layer")
    assert list_referrers(ref, digest, env={}) == []
    assert fetch_attachments(ref, digest, tmp_path / "out", env={}) == {}
    assert not (tmp_path / "out").exists()


@pytest.mark.integration
def test_a_registry_with_the_referrers_api_indexes_them_itself() -> None:
    subject_body = b'{"schemaVersion":2}'
    subject = "sha256:" + hashlib.sha256(subject_body).hexdigest()
    lock_text, sbom = lock_and_sbom_bytes(subject)
    with referrers_registry() as (host, store):
        ref = f"{host}/acme/model:1"
        digests = attach(
            ref, subject, len(subject_body), MEDIA_MANIFEST, lock_and_sbom(lock_text, sbom), env={}
        )
        assert not any(r.endswith(referrers_tag(subject)) for r in store.requests)
        (lock_ref,) = list_referrers(ref, subject, COG_LOCK_ARTIFACT_TYPE, env={})
        assert f"GET /v2/acme/model/referrers/{subject}" in store.requests
        assert lock_ref.digest == digests[0]
        assert fetch_artifact(ref, lock_ref.digest, env={}) == lock_text.encode()
        assert [d.digest for d in list_referrers(ref, subject, env={})] == sorted(digests)


@pytest.mark.integration
def test_two_pushes_of_one_image_attaching_at_once_leave_one_entry_each(
    registry: Registry, tmp_path: Path
) -> None:
    ref = f"{registry.host}/acme/model:2"
    subject, size = push_tiny_image(tmp_path, ref, b"racing layer")
    lock_text, sbom = lock_and_sbom_bytes(subject)

    def attach_once(_: int) -> list[str]:
        artifacts = lock_and_sbom(lock_text, sbom)
        return attach(ref, subject, size, MEDIA_MANIFEST, artifacts, env={})

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(attach_once, range(2))
    assert first == second
    assert [d.digest for d in list_referrers(ref, subject, env={})] == first
