"""build.base_image: a registry image (here, the hello image pushed to a local registry)
becomes the bottom of a new image, its layers reused byte for byte."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cog.rules.oci import OciLayout
from tests.support.registry import Registry

from ._runc import free_port, get_json, serving, unpack, wait_ready
from .conftest import Built, build, copy_project, lock

pytestmark = [pytest.mark.integration, pytest.mark.network]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "build" / "based"


def _layers(layout: Path, digest: str) -> list[str]:
    manifest = json.loads(OciLayout(layout).blob(digest).read_bytes())
    return [layer["digest"] for layer in manifest["layers"]]


def test_our_layers_go_on_top_of_a_pulled_base(
    hello: Built, registry: Registry, tmp_path: Path, cog_source: Path
) -> None:
    base = f"{registry.host}/base/hello:1"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "--dest-tls-verify=false",
            f"oci:{hello.result.layout}:hello",
            f"docker://{base}",
        ],
        check=True,
        capture_output=True,
    )
    project = copy_project(FIXTURE, tmp_path / "project")
    template = project / "cog.yaml.tmpl"
    (project / "cog.yaml").write_text(template.read_text().replace("BASE", base))
    template.unlink()
    lock(project)
    result = build(project, tmp_path / "cache", cog_source, tag="based")
    ours = _layers(result.layout, result.manifest_digest)
    theirs = _layers(hello.result.layout, hello.result.manifest_digest)
    assert ours[: len(theirs)] == theirs
    assert len(ours) > len(theirs)

    bundle = tmp_path / "bundle"
    unpack(result.layout, "based", bundle)
    with serving(bundle, free_port()) as url:
        assert wait_ready(url)["status"] == "READY"
        prediction = get_json(f"{url}/predictions", {"input": {"name": "hello"}})
    assert prediction["output"] == "built on hello"
