"""Push against a real docker-registry, checked with skopeo."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from cog.errors import RegistryError
from cog.rules.registry import push
from cog.rules.registry._record import PushRecord

from .conftest import Registry
from .images import TestImage, layer_sizes, make_image, push_image
from .proxy import Proxy, ProxyState
from .recorder import RecordedTask, Recorder

MiB = 1024 * 1024


def _skopeo_copy_back(host: str, repo_tag: str, dest: Path) -> str:
    """The manifest digest skopeo finds after copying the pushed image to an OCI layout."""
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--src-tls-verify=false",
            f"docker://{host}/{repo_tag}",
            f"oci:{dest}:copied",
        ],
        check=True,
        capture_output=True,
    )
    index = json.loads((dest / "index.json").read_text())
    (entry,) = index["manifests"]
    return str(entry["digest"])


def _blob_digests(layout: Path) -> set[str]:
    blobs = layout / "blobs" / "sha256"
    return {f"sha256:{hashlib.sha256(p.read_bytes()).hexdigest()}" for p in blobs.iterdir()}


@pytest.fixture
def image(tmp_path: Path) -> TestImage:
    # One layer under the threshold (one streamed PUT), two above it (chunked PATCHes).
    return make_image(tmp_path / "layout", [1500, 3 * MiB + 17, 5 * MiB])


@pytest.mark.integration
def test_push_then_skopeo_copy_back_has_the_same_digest(
    registry: Registry, image: TestImage, docker_env: dict[str, str], tmp_path: Path
) -> None:
    result = push_image(
        image,
        f"{registry.host}/acme/model:v1",
        docker_env,
        multipart_threshold=2 * MiB,
        chunk_size=MiB,
    )
    assert result.digest == image.manifest_digest
    assert set(result.uploaded) == {*image.layer_digests, image.config_digest}
    assert result.skipped == result.mounted == ()
    total = sum(size for _, size in layer_sizes(image))
    assert result.bytes_sent >= total
    copied = tmp_path / "copied"
    assert _skopeo_copy_back(registry.host, "acme/model:v1", copied) == image.manifest_digest
    assert _blob_digests(copied) == _blob_digests(image.layout)


@pytest.mark.integration
def test_repush_uploads_nothing_and_a_changed_layer_only_that(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    ref = f"{registry.host}/acme/model:v1"
    push_image(
        image,
        ref,
        docker_env,
        multipart_threshold=2 * MiB,
        chunk_size=MiB,
    )
    again = push_image(
        image,
        ref,
        docker_env,
        multipart_threshold=2 * MiB,
        chunk_size=MiB,
    )
    assert again.uploaded == ()
    assert again.bytes_sent == 0
    assert set(again.skipped) == {*image.layer_digests, image.config_digest}

    changed = make_image(image.layout, [4 * MiB], reuse=layer_sizes(image)[:2], tag="v2")
    result = push_image(
        changed,
        f"{registry.host}/acme/model:v2",
        docker_env,
        multipart_threshold=2 * MiB,
        chunk_size=MiB,
    )
    assert set(result.uploaded) == {changed.layer_digests[-1], changed.config_digest}
    assert set(result.skipped) == set(changed.layer_digests[:2])
    resp = requests.head(
        f"{registry.url}/v2/acme/model/manifests/v2",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=5,
    )
    assert resp.headers["Docker-Content-Digest"] == changed.manifest_digest


@pytest.mark.integration
def test_push_to_another_repository_mounts_blobs(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    push_image(
        image,
        f"{registry.host}/acme/one",
        docker_env,
    )
    result = push_image(
        image,
        f"{registry.host}/team/two:t",
        docker_env,
    )
    assert set(result.mounted) == {*image.layer_digests, image.config_digest}
    assert result.uploaded == ()
    assert result.bytes_sent == 0
    for digest in image.layer_digests:
        head = requests.head(f"{registry.url}/v2/team/two/blobs/{digest}", timeout=5)
        assert head.status_code == 200


@pytest.mark.integration
def test_chunked_upload_sends_ranges_of_the_chunk_size(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [5 * MiB])
    ((_, size),) = layer_sizes(image)
    proxy = Proxy(ProxyState(upstream_port=registry.port))
    try:
        push_image(
            image,
            f"{proxy.host}/acme/chunks:v1",
            docker_env,
            multipart_threshold=2 * MiB,
            chunk_size=MiB,
        )
    finally:
        proxy.close()
    patches = [s for s in proxy.state.seen if s.method == "PATCH"]
    assert [s.content_range for s in patches] == [
        f"{i * MiB}-{min((i + 1) * MiB, size) - 1}" for i in range(-(-size // MiB))
    ]
    assert all(s.status == 202 for s in patches)


@pytest.mark.integration
def test_registry_refusing_chunks_gets_a_streamed_monolithic_upload(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [3 * MiB])
    ((layer, size),) = layer_sizes(image)
    proxy = Proxy(ProxyState(upstream_port=registry.port, refuse_patch=True))
    try:
        result = push_image(
            image,
            f"{proxy.host}/acme/mono:v1",
            docker_env,
            multipart_threshold=2 * MiB,
            chunk_size=MiB,
        )
    finally:
        proxy.close()
    assert layer in result.uploaded
    assert [s.status for s in proxy.state.seen if s.method == "PATCH"] == [405]
    puts = [s for s in proxy.state.seen if s.method == "PUT" and layer[7:] in s.path]
    assert [(s.status, s.body_length) for s in puts] == [(201, size)]
    head = requests.head(f"{registry.url}/v2/acme/mono/blobs/{layer}", timeout=5)
    assert head.status_code == 200


@pytest.mark.integration
def test_registry_killed_mid_push_then_push_again_sends_only_what_is_missing(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [40 * MiB])
    ((big, size),) = layer_sizes(image)
    ref = f"{registry.host}/acme/big:v1"
    killed = threading.Event()

    def kill_at_a_third(task: RecordedTask) -> None:
        if task.total == size and task.done >= 14 * MiB and not killed.is_set():
            killed.set()
            registry.kill()

    started = time.monotonic()
    with pytest.raises(RegistryError) as err:
        push(
            image.layout,
            image.manifest_digest,
            ref,
            progress=Recorder(kill_at_a_third),
            env=docker_env,
            multipart_threshold=2 * MiB,
            chunk_size=MiB,
        )
    assert killed.is_set()
    assert registry.host in err.value.message
    assert time.monotonic() - started < 15

    registry.start()  # same storage, same port
    result = push_image(
        image,
        ref,
        docker_env,
        multipart_threshold=2 * MiB,
        chunk_size=MiB,
    )
    assert result.resumed == (big,)
    # Only what the registry did not hold went out again: at most the chunk in flight.
    assert 0 < result.bytes_sent <= size - 12 * MiB
    copied = tmp_path / "copied"
    assert _skopeo_copy_back(registry.host, "acme/big:v1", copied) == image.manifest_digest


@pytest.mark.integration
def test_dead_registry_fails_in_seconds_naming_it(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    registry.kill()
    started = time.monotonic()
    with pytest.raises(RegistryError) as err:
        push_image(
            image,
            f"{registry.host}/acme/model:v1",
            docker_env,
        )
    assert time.monotonic() - started < 5
    assert f"Cannot reach registry {registry.host}" in err.value.message


@pytest.mark.integration
def test_bearer_token_flow_asks_for_the_push_scope(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    proxy = Proxy(ProxyState(upstream_port=registry.port, bearer_user=("bob", "pw")))
    config = Path(docker_env["DOCKER_CONFIG"]) / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"auths": {proxy.host: {"auth": "Ym9iOnB3"}}}))  # bob:pw
    try:
        result = push_image(
            image,
            f"{proxy.host}/acme/tok:v1",
            docker_env,
        )
    finally:
        proxy.close()
    assert result.digest == image.manifest_digest
    scopes = {s for q in proxy.state.token_queries for s in q.get("scope", [])}
    assert "repository:acme/tok:pull,push" in scopes
    assert all(q.get("service") == ["tests"] for q in proxy.state.token_queries)
    # One token per scope set, not one per request.
    assert len(proxy.state.token_queries) <= 3


@pytest.mark.integration
def test_manifest_is_put_with_exact_bytes_and_media_type(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    push_image(
        image,
        f"{registry.host}/acme/exact:v1",
        docker_env,
    )
    resp = requests.get(
        f"{registry.url}/v2/acme/exact/manifests/{image.manifest_digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
        timeout=5,
    )
    original = (image.layout / "blobs" / "sha256" / image.manifest_digest[7:]).read_bytes()
    assert resp.content == original
    assert resp.headers["Content-Type"] == "application/vnd.oci.image.manifest.v1+json"


@pytest.mark.integration
def test_push_of_a_tampered_layout_is_refused_before_any_upload(
    registry: Registry, image: TestImage, docker_env: dict[str, str]
) -> None:
    manifest = image.layout / "blobs" / "sha256" / image.manifest_digest[7:]
    manifest.write_bytes(manifest.read_bytes() + b"\n")
    with pytest.raises(RegistryError, match="does not match its digest"):
        push_image(
            image,
            f"{registry.host}/acme/model:v1",
            docker_env,
        )


@pytest.mark.integration
def test_chunks_are_at_least_the_registry_minimum(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [5 * MiB])
    ((_, size),) = layer_sizes(image)
    proxy = Proxy(ProxyState(upstream_port=registry.port, chunk_min_length=2 * MiB))
    try:
        push_image(
            image,
            f"{proxy.host}/acme/min:v1",
            docker_env,
            multipart_threshold=MiB,
            chunk_size=MiB,
        )
    finally:
        proxy.close()
    ranges = [s.content_range for s in proxy.state.seen if s.method == "PATCH"]
    assert ranges == [f"{i * 2 * MiB}-{min((i + 1) * 2 * MiB, size) - 1}" for i in range(3)]


@pytest.mark.integration
def test_a_stale_unfinished_upload_is_started_again(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [3 * MiB])
    ((layer, _),) = layer_sizes(image)
    record = PushRecord(Path(docker_env["COG_CACHE_DIR"]), registry.host)
    record.save_upload("acme/stale", layer, f"{registry.url}/v2/acme/stale/blobs/uploads/gone")
    result = push_image(
        image,
        f"{registry.host}/acme/stale:v1",
        docker_env,
        multipart_threshold=MiB,
        chunk_size=MiB,
    )
    assert layer in result.uploaded
    assert result.resumed == ()
    assert record.upload_location("acme/stale", layer) is None
