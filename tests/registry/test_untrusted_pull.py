"""Hostile images pushed to a real docker-registry, then pulled and run with cog: refused,
with the host's canary files untouched and nothing cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cog._container.image import load_image
from cog._container.rootfs import unpacked_rootfs
from cog.cli.main import cli
from cog.errors import RegistryError
from cog.progress import NullProgress
from cog.rules.registry import pull
from tests.support.oci_layers import Canary, Layout, make_canary, member, symlink, tar

from .conftest import Registry
from .images import TestImage, push_image

MiB = 1024 * 1024
COG_LABELS = {"run.cog.version": "0.16.0"}


@pytest.fixture
def canary(tmp_path: Path) -> Canary:
    return make_canary(tmp_path / "host")


def _push(
    layout: Layout, registry: Registry, name: str, env: dict[str, str], **write: object
) -> str:
    digest = layout.write(labels=COG_LABELS, **write)  # type: ignore[arg-type]
    image = TestImage(layout.path, digest, "", ())
    push_image(image, f"{registry.host}/{name}", env)
    return f"{registry.host}/{name}"


def _cog_run(reference: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["run", reference], env=env)
    return result.exit_code, result.stderr


def _nothing_cached(env: dict[str, str]) -> bool:
    rootfs = Path(env["COG_CACHE_DIR"]) / "rootfs"
    return not rootfs.exists() or not any(rootfs.iterdir())


def _no_partial_files(env: dict[str, str]) -> bool:
    tmp = Path(env["COG_CACHE_DIR"]) / "tmp"
    return not tmp.exists() or not any(tmp.iterdir())


@pytest.mark.integration
@pytest.mark.parametrize("entry", ["esc/.wh.a.txt", "esc/.wh..wh..opq"])
def test_cog_run_refuses_a_whiteout_through_a_planted_symlink(
    registry: Registry,
    tmp_path: Path,
    docker_env: dict[str, str],
    canary: Canary,
    entry: str,
) -> None:
    layout = Layout(tmp_path / "hostile").add(tar([symlink("esc", str(canary.directory))]))
    layout.add(tar([(entry, b"")]))
    reference = _push(layout, registry, "acme/whiteout:v1", docker_env)
    code, stderr = _cog_run(reference, docker_env)
    assert code == 1
    assert f"entry '{entry}' reaches through a symlink" in stderr
    assert canary.intact()
    assert _nothing_cached(docker_env)


@pytest.mark.integration
def test_cog_run_refuses_a_hardlink_to_a_host_file(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str], canary: Canary
) -> None:
    hardlink = member(
        "h", tarfile.LNKTYPE, linkname=str(canary.file), mode=0o4777, uid=4242, gid=4242
    )
    layout = Layout(tmp_path / "hostile").add(tar([hardlink]))
    reference = _push(layout, registry, "acme/hardlink:v1", docker_env)
    code, stderr = _cog_run(reference, docker_env)
    assert code == 1
    assert "hardlink 'h'" in stderr
    assert "no such file earlier in the image" in stderr
    assert canary.intact()
    assert _nothing_cached(docker_env)


@pytest.mark.integration
def test_an_image_claiming_a_trusted_images_diff_ids_poisons_nothing(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    trusted = Layout(tmp_path / "trusted").add(tar([("app.py", b"print('trusted')")]))
    trusted_ref = _push(trusted, registry, "acme/trusted:v1", docker_env)
    claimed = [diff_id for _, diff_id in trusted.layers]
    hostile = Layout(tmp_path / "hostile").add(tar([("app.py", b"print('evil')")]))
    hostile_ref = _push(hostile, registry, "acme/hostile:v1", docker_env, diff_ids=claimed)

    code, stderr = _cog_run(hostile_ref, docker_env)
    assert code == 1
    assert f"unpacks to {hostile.layers[0][1]}" in stderr
    assert f"diff_id is {claimed[0]}" in stderr
    assert _nothing_cached(docker_env)

    cache = Path(docker_env["COG_CACHE_DIR"])
    result = pull(
        trusted_ref, tmp_path / "pulled", cache_dir=cache, progress=NullProgress(), env=docker_env
    )
    root = unpacked_rootfs(load_image(tmp_path / "pulled", result.manifest_digest), cache)
    assert (root / "app.py").read_bytes() == b"print('trusted')"


def _put_blob(registry: Registry, repository: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = requests.post(f"{registry.url}/v2/{repository}/blobs/uploads/", timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    separator = "&" if "?" in location else "?"
    done = requests.put(
        requests.compat.urljoin(registry.url, location) + f"{separator}digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert done.status_code == 201, done.text
    return digest


@pytest.fixture
def oversized(registry: Registry) -> tuple[str, int, str]:
    """An image whose 104-byte layer descriptor names an 8 MiB blob."""
    repository = "acme/oversized"
    blob = os.urandom(8 * MiB)
    layer = _put_blob(registry, repository, blob)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer]}}
    ).encode()
    config_digest = _put_blob(registry, repository, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer,
                    "size": 104,
                }
            ],
        }
    ).encode()
    put = requests.put(
        f"{registry.url}/v2/{repository}/manifests/v1",
        data=manifest,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
        timeout=10,
    )
    if put.status_code != 201:
        pytest.fail(f"the registry refused the crafted manifest: {put.status_code} {put.text}")
    return f"{registry.host}/{repository}:v1", 104, layer


@pytest.mark.integration
def test_a_blob_longer_than_its_descriptor_is_refused_at_size_plus_one(
    oversized: tuple[str, int, str], tmp_path: Path, docker_env: dict[str, str]
) -> None:
    reference, size, digest = oversized
    cache = Path(docker_env["COG_CACHE_DIR"])
    with pytest.raises(RegistryError) as caught:
        pull(
            reference, tmp_path / "pulled", cache_dir=cache, progress=NullProgress(), env=docker_env
        )
    assert caught.value.message == (
        f"{reference.split('/')[0]} sent more than the {size} bytes the manifest says for {digest}"
    )
    assert not (cache / "blobs" / "sha256" / digest[7:]).exists()
    assert _no_partial_files(docker_env)


@pytest.fixture
def small_cache(tmp_path: Path, docker_env: dict[str, str]) -> Iterator[dict[str, str]]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    yield {**docker_env, "COG_CACHE_DIR": str(mount)}
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.integration
def test_a_pull_onto_a_full_disk_says_so_and_leaves_no_partial_blob(
    registry: Registry, tmp_path: Path, docker_env: dict[str, str], small_cache: dict[str, str]
) -> None:
    layout = Layout(tmp_path / "big").add(tar([("weights", os.urandom(3 * MiB))]))
    reference = _push(layout, registry, "acme/big:v1", docker_env)
    result = CliRunner().invoke(cli, ["pull", reference], env=small_cache)
    assert result.exit_code == 1
    assert f"error: no space left on {small_cache['COG_CACHE_DIR']}" in result.stderr
    assert "unexpected" not in result.stderr
    assert _no_partial_files(small_cache)
