"""examples/hello, locked and built for real, checked by skopeo and umoci, served by runc."""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from cog.rules.oci import OciLayout

from ._runc import free_port, get_json, serving, unpack, wait_ready
from .conftest import Built, build, copy_project

pytestmark = [pytest.mark.integration, pytest.mark.network]


def _inspect(layout: Path, tag: str, *extra: str) -> Any:
    out = subprocess.run(
        ["skopeo", "inspect", *extra, f"oci:{layout}:{tag}"],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def _fork(hello: Built, dest: Path) -> Path:
    """A copy of the locked project: building it never retags the shared fixture's image."""
    project = copy_project(hello.project, dest)
    (project / "cog.lock").write_bytes((hello.project / "cog.lock").read_bytes())
    return project


def _layer_names(layout: Path, digest: str) -> list[str]:
    with tarfile.open(OciLayout(layout).blob(digest)) as tar:
        return tar.getnames()


def test_skopeo_reads_the_image_config(hello: Built) -> None:
    result = hello.result
    assert result.layout == hello.project / ".cog" / "image"
    info = _inspect(result.layout, "hello")
    assert info["Digest"] == result.manifest_digest
    assert info["Architecture"] == "amd64"
    config = _inspect(result.layout, "hello", "--config")
    assert config["created"] == "1970-01-01T00:00:00Z"
    process = config["config"]
    assert process["Cmd"] == ["python3", "-m", "cog.runtime"]
    assert process["WorkingDir"] == "/src"
    assert process["ExposedPorts"] == {"5000/tcp": {}}
    assert "PYTHONUNBUFFERED=1" in process["Env"]
    assert not any(e.startswith("NVIDIA_") for e in process["Env"])
    labels = process["Labels"]
    assert json.loads(labels["run.cog.config"])["predict"] == "run.py:Runner"
    schema = json.loads(labels["run.cog.openapi_schema"])
    assert set(schema["components"]["schemas"]["Input"]["properties"]) == {"name", "times"}
    assert "hermetic-cog==" in labels["run.cog.pip_freeze"]
    assert len(config["rootfs"]["diff_ids"]) == len(info["Layers"]) == len(config["history"])
    code = _layer_names(result.layout, info["Layers"][-1])
    assert "src/run.py" in code
    assert "src/weights/greeting.json" in code
    assert not any(n.startswith(("src/.cog", "src/make_weights")) for n in code)


def test_runc_serves_predictions_from_the_unpacked_image(hello: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    unpack(hello.result.layout, "hello", bundle)
    with serving(bundle, free_port()) as base:
        health = wait_ready(base)
        assert health["status"] == "READY", health
        prediction = get_json(f"{base}/predictions", {"input": {"name": "cog", "times": 2}})
    assert prediction["status"] == "succeeded"
    assert prediction["output"] == "hello, cog! hello, cog!"


def test_a_fresh_cache_gives_the_same_digest(
    hello: Built, tmp_path: Path, cog_source: Path
) -> None:
    # Another directory too: the project's path must not reach the image either.
    again = build(_fork(hello, tmp_path / "copy"), tmp_path / "other-cache", cog_source)
    first = _inspect(hello.result.layout, "hello", "--config")
    layers = _inspect(hello.result.layout, "hello")["Layers"]
    second = _inspect(again.layout, "hello")["Layers"]
    differing = [
        h["created_by"] for h, a, b in zip(first["history"], layers, second, strict=True) if a != b
    ]
    assert differing == []
    assert again.manifest_digest == hello.result.manifest_digest


def test_a_code_change_rebuilds_only_the_code_layer(
    hello: Built, tmp_path: Path, cog_source: Path
) -> None:
    project = _fork(hello, tmp_path / "edited")
    run_py = project / "run.py"
    run_py.write_text(run_py.read_text().replace('"How many times"', '"How often"'))
    cache = hello.result.layout.parents[2] / "cache"
    edited = build(project, cache, cog_source)
    before = _inspect(hello.result.layout, "hello")["Layers"]
    after = _inspect(edited.layout, "hello")["Layers"]
    assert edited.manifest_digest != hello.result.manifest_digest
    assert len(after) == len(before)
    assert after[:-1] == before[:-1]
    assert after[-1] != before[-1]


def test_separate_weights_get_their_own_layer(
    hello: Built, tmp_path: Path, cog_source: Path
) -> None:
    cache = hello.result.layout.parents[2] / "cache"
    project = _fork(hello, tmp_path / "weights")
    build(project, cache, cog_source)
    result = build(project, cache, cog_source, tag="hello-weights", separate_weights=True)
    layers = _inspect(result.layout, "hello-weights")["Layers"]
    assert len(layers) == len(_inspect(hello.result.layout, "hello")["Layers"]) + 1
    weights = _layer_names(result.layout, layers[-2])
    assert weights == ["src", "src/weights", "src/weights/greeting.json"]
    assert "src/weights/greeting.json" not in _layer_names(result.layout, layers[-1])
    # The earlier tag still names its own image in the same layout.
    assert OciLayout(result.layout).resolve("hello") == hello.result.manifest_digest
    assert OciLayout(result.layout).resolve("hello-weights") == result.manifest_digest


def test_umoci_accepts_every_layer(hello: Built) -> None:
    layout = OciLayout(hello.result.layout)
    manifest = json.loads(layout.blob(hello.result.manifest_digest).read_bytes())
    config = json.loads(layout.blob(manifest["config"]["digest"]).read_bytes())
    for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"], strict=True):
        data = gzip.decompress(layout.blob(layer["digest"]).read_bytes())
        assert f"sha256:{hashlib.sha256(data).hexdigest()}" == diff_id
    listing = subprocess.run(
        ["umoci", "ls", "--layout", str(hello.result.layout)],
        check=True,
        capture_output=True,
        text=True,
    )
    assert "hello" in listing.stdout.split()
