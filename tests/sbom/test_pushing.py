"""cog.pushing on a real docker-registry: build, push, then cog.lock and the SBOM attached."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cog.building import BuildResult
from cog.config import Config
from cog.errors import CogError
from cog.progress import NullProgress
from cog.pushing import Pushed, push_destination, push_project
from cog.rules.oci import MEDIA_CONFIG, MEDIA_LAYER_GZIP, OciLayout
from cog.rules.registry.reference import model_reference
from cog.rules.registry.referrers import (
    COG_LOCK_ARTIFACT_TYPE,
    SPDX_ARTIFACT_TYPE,
    list_referrers,
)

from .conftest import Registry
from .test_referrers import lock_and_sbom_bytes


def _built(tmp_path: Path) -> BuildResult:
    layout = OciLayout(tmp_path / "layout")
    layout.init()
    config = layout.add_bytes(
        json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode(),
        MEDIA_CONFIG,
    )
    digest = layout.write_manifest(config, [layout.add_bytes(b"layer", MEDIA_LAYER_GZIP)])
    lock_text, sbom = lock_and_sbom_bytes(digest)
    (tmp_path / "cog.lock").write_text(lock_text, encoding="utf-8")
    (tmp_path / "sbom.spdx.json").write_bytes(sbom)
    return BuildResult(
        layout.path, digest, "m", 1, tmp_path / "sbom.spdx.json", tmp_path / "cog.lock"
    )


@pytest.mark.integration
def test_push_project_builds_pushes_then_attaches_the_lock_and_sbom(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOME", "DOCKER_CONFIG", "XDG_RUNTIME_DIR", "COG_CACHE_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))  # no credentials, own cache
    built = _built(tmp_path)
    reference = f"{registry.host}/me/model:v1"
    events: list[object] = []

    def build() -> BuildResult:
        events.append("built")
        return built

    def pushed(done: Pushed) -> None:  # the image is there, not yet its referrers
        events.append(("pushed", done.digest, list_referrers(reference, done.digest, env={})))

    done = push_project(model_reference(reference), build, NullProgress, pushed=pushed)
    assert events == ["built", ("pushed", built.manifest_digest, [])]
    assert (done.uploaded, done.skipped, done.mounted) == (2, 0, 0)  # the config and the layer
    attached = list_referrers(reference, built.manifest_digest, env={})
    assert {d.artifact_type for d in attached} == {COG_LOCK_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE}
    again = push_project(model_reference(reference), lambda: built, NullProgress)
    assert (again.uploaded, again.skipped) == (0, 2)


@pytest.mark.unit
def test_the_destination_is_the_argument_else_cog_yaml_image(tmp_path: Path) -> None:
    config = Config(path=tmp_path / "cog.yaml", project_dir=tmp_path, image="127.0.0.1:1/a/b")
    assert str(push_destination(config, None, "cog.yaml")) == "127.0.0.1:1/a/b:latest"
    assert str(push_destination(config, "127.0.0.1:1/c", "cog.yaml")) == "127.0.0.1:1/c:latest"
    with pytest.raises(CogError, match=r"set image in cog\.gpu\.yaml"):
        push_destination(Config(path=tmp_path, project_dir=tmp_path), None, "cog.gpu.yaml")
