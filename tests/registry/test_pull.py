"""Pull from a real docker-registry into an empty cache and an OCI layout."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from cog.errors import RegistryError
from cog.progress import NullProgress
from cog.rules.registry import pull, push

from .conftest import Registry
from .images import TestImage, make_image, make_index, push_image

MiB = 1024 * 1024


def _sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def _tagged(layout: Path) -> dict[str, str]:
    index = json.loads((layout / "index.json").read_text())
    return {
        m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"]
        for m in index["manifests"]
    }


@pytest.fixture
def pushed(registry: Registry, tmp_path: Path, docker_env: dict[str, str]) -> TestImage:
    image = make_image(tmp_path / "layout", [2000, 3 * MiB])
    push_image(
        image,
        f"{registry.host}/acme/model:v1",
        docker_env,
        multipart_threshold=MiB,
        chunk_size=MiB,
    )
    return image


@pytest.mark.integration
def test_pull_into_an_empty_cache_gives_the_same_digests(
    registry: Registry, pushed: TestImage, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    cache, dest = tmp_path / "empty-cache", tmp_path / "pulled"
    result = pull(
        f"{registry.host}/acme/model:v1",
        dest,
        cache_dir=cache,
        progress=NullProgress(),
        env=docker_env,
    )
    assert result.manifest_digest == pushed.manifest_digest
    assert result.tag == "v1"
    assert _tagged(dest) == {"v1": pushed.manifest_digest}
    for digest in (pushed.manifest_digest, pushed.config_digest, *pushed.layer_digests):
        assert _sha(dest / "blobs" / "sha256" / digest[7:]) == digest
        assert _sha(cache / "blobs" / "sha256" / digest[7:]) == digest
    # skopeo reads the pulled layout as the same image.
    out = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci:{dest}:v1"], check=True, capture_output=True
    )
    assert "sha256:" + hashlib.sha256(out.stdout).hexdigest() == pushed.manifest_digest


@pytest.mark.integration
def test_pull_by_digest_and_of_a_docker_v2_manifest(
    registry: Registry, pushed: TestImage, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    # skopeo converts the image to Docker's v2 schema 2 manifest on the way in.
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--format",
            "v2s2",
            f"oci:{pushed.layout}:v1",
            f"docker://{registry.host}/acme/docker:v2",
        ],
        check=True,
        capture_output=True,
    )
    raw = subprocess.run(
        [
            "skopeo",
            "inspect",
            "--raw",
            "--tls-verify=false",
            f"docker://{registry.host}/acme/docker:v2",
        ],
        check=True,
        capture_output=True,
    ).stdout
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    assert json.loads(raw)["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    result = pull(
        f"{registry.host}/acme/docker@{digest}",
        tmp_path / "pulled",
        cache_dir=tmp_path / "cache2",
        progress=NullProgress(),
        env=docker_env,
    )
    assert result.manifest_digest == digest
    assert _sha(tmp_path / "pulled" / "blobs" / "sha256" / digest[7:]) == digest


@pytest.mark.integration
def test_pull_of_an_index_takes_the_platform_image(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    index_digest, images = make_index(tmp_path / "multi", [1000])
    pushed = push(
        tmp_path / "multi",
        index_digest,
        f"{registry.host}/acme/multi:m",
        progress=NullProgress(),
        env=docker_env,
    )
    assert pushed.digest == index_digest
    for arch in ("arm64", "amd64"):
        result = pull(
            f"{registry.host}/acme/multi:m",
            tmp_path / f"pulled-{arch}",
            cache_dir=tmp_path / "cache",
            platform=f"linux/{arch}",
            progress=NullProgress(),
            env=docker_env,
        )
        assert result.manifest_digest == images[arch].manifest_digest
    with pytest.raises(RegistryError, match="has no image for linux/s390x"):
        pull(
            f"{registry.host}/acme/multi:m",
            tmp_path / "none",
            cache_dir=tmp_path / "cache",
            platform="linux/s390x",
            progress=NullProgress(),
            env=docker_env,
        )


@pytest.mark.integration
def test_a_blob_altered_in_the_registry_is_refused(
    registry: Registry, pushed: TestImage, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    layer = pushed.layer_digests[0]
    stored = (
        registry.root
        / "storage"
        / "docker"
        / "registry"
        / "v2"
        / "blobs"
        / "sha256"
        / layer[7:9]
        / layer[7:]
        / "data"
    )
    data = bytearray(stored.read_bytes())
    data[100] ^= 0xFF
    stored.write_bytes(bytes(data))
    cache = tmp_path / "cache"
    with pytest.raises(RegistryError, match=f"Blob {layer} .* does not match its digest"):
        pull(
            f"{registry.host}/acme/model:v1",
            tmp_path / "pulled",
            cache_dir=cache,
            progress=NullProgress(),
            env=docker_env,
        )
    assert not (cache / "blobs" / "sha256" / layer[7:]).exists()


@pytest.mark.integration
def test_pull_of_a_missing_tag_names_it(
    registry: Registry, pushed: TestImage, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    with pytest.raises(RegistryError, match="acme/model:nope does not exist"):
        pull(
            f"{registry.host}/acme/model:nope",
            tmp_path / "pulled",
            cache_dir=tmp_path / "c",
            progress=NullProgress(),
            env=docker_env,
        )
