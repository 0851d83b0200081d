"""build.run as Cog users write it: pip, curl and chmod in the step, a BuildKit cache
mount reused by the next build and kept out of every layer, and clear errors."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.building import BuildResult, build_project
from cog.errors import BuildError
from cog.progress import NullProgress
from cog.rules.cache import Cache
from cog.rules.oci import OciLayout
from tests.support.local_index import LocalIndex, serving_index

from ._archives import make_wheel
from ._runc import free_port, get_json, serving, unpack, wait_ready
from .conftest import build, lock

pytestmark = [pytest.mark.integration, pytest.mark.network]

RUNNER = """\
import subprocess

import tinystep
from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        greeting = subprocess.run(["greet"], capture_output=True, text=True, check=True)
        return f"{tinystep.VALUE} {greeting.stdout.strip()}"
"""
CACHE_STEP = (
    "--mount=type=cache,target=/var/cache/demo mkdir -p /opt/demo && "
    "(cat /var/cache/demo/seen 2>/dev/null || true) > /opt/demo/seen-before && "
    "echo seen > /var/cache/demo/seen"
)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    folder = tmp_path_factory.mktemp("index")
    make_wheel(
        folder / "tinystep-1.0-py3-none-any.whl",
        "tinystep",
        "1.0",
        {"tinystep/__init__.py": b"VALUE = 'from pip'\n"},
    )
    (folder / "greet.sh").write_text("#!/bin/sh\necho hello from curl\n")
    with serving_index(folder) as served:
        yield served


@pytest.fixture(scope="module")
def step_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("steps-cache")


def _project(root: Path, steps: list[str]) -> Path:
    root.mkdir(parents=True)
    lines = "".join(f"    - {json.dumps(s)}\n" for s in steps)
    (root / "cog.yaml").write_text(
        f'build:\n  python_version: "3.11"\n  run:\n{lines}run: "run.py:Runner"\n'
    )
    (root / "run.py").write_text(RUNNER)
    return root


def _layer_files(result: BuildResult) -> list[dict[str, bytes]]:
    layout = OciLayout(result.layout)
    manifest = json.loads(layout.blob(result.manifest_digest).read_text())
    files = []
    for layer in manifest["layers"]:
        with tarfile.open(layout.blob(layer["digest"])) as tar:
            members = {}
            for m in tar.getmembers():
                extracted = tar.extractfile(m) if m.isfile() and m.size < 100_000 else None
                members[m.name] = extracted.read() if extracted else b""
            files.append(members)
    return files


def test_steps_pip_install_curl_chmod_and_reuse_a_cache_mount(
    tmp_path: Path, cog_source: Path, index: LocalIndex, step_cache: Path
) -> None:
    steps = [
        f"pip install --index-url {index.simple} tinystep==1.0",
        f"curl -fsS -o /usr/local/bin/greet {index.url}/files/greet.sh && "
        "chmod +x /usr/local/bin/greet",
        CACHE_STEP,
    ]
    project = _project(tmp_path / "project", steps)
    lock(project)
    locked = (project / "cog.lock").read_text()
    for name in ('name = "dash"', 'name = "curl"', 'name = "pip"', 'name = "coreutils"'):
        assert name in locked
    first = build(project, step_cache, cog_source, tag="steps")
    layers = _layer_files(first)
    assert not any(n.startswith("var/cache/demo") for files in layers for n in files)
    pip_layer = next(f for f in layers if "usr/local/lib/python3.11/dist-packages/tinystep" in f)
    assert pip_layer["usr/local/lib/python3.11/dist-packages/tinystep/__init__.py"]
    seen = next(f for f in layers if "opt/demo/seen-before" in f)
    assert seen["opt/demo/seen-before"] == b""

    bundle = tmp_path / "bundle"
    unpack(first.layout, "steps", bundle)
    with serving(bundle, free_port()) as base:
        assert wait_ready(base)["status"] == "READY"
        prediction = get_json(f"{base}/predictions", {"input": {}})
    assert prediction["output"] == "from pip hello from curl", prediction

    # A second build, every layer rebuilt: the step finds what the first left in its cache.
    second = build_project(
        project,
        tag="steps",
        separate_weights=False,
        no_cache=True,
        progress=NullProgress(),
        cache=Cache(step_cache),
        cog_source=cog_source,
    )
    seen = next(f for f in _layer_files(second) if "opt/demo/seen-before" in f)
    assert seen["opt/demo/seen-before"] == b"seen\n"


def test_a_failing_step_shows_its_command_status_and_output(
    tmp_path: Path, cog_source: Path, step_cache: Path
) -> None:
    command = "echo preparing; echo the-last-words >&2; exit 3"
    project = _project(tmp_path / "project", [command])
    lock(project)
    with pytest.raises(BuildError) as info:
        build(project, step_cache, cog_source, tag="fails")
    message = info.value.message
    assert command in message
    assert "exit status 3" in message
    assert "preparing" in message
    assert "the-last-words" in message
    assert info.value.hint


def test_an_unsupported_mount_type_fails_before_building(
    tmp_path: Path, cog_source: Path, step_cache: Path
) -> None:
    project = _project(tmp_path / "project", ["--mount=type=bind,target=/src ls /src"])
    lock(project)
    with pytest.raises(BuildError, match="--mount type 'bind' is not supported"):
        build(project, tmp_path / "empty-cache", cog_source, tag="bind")
    assert not list((tmp_path / "empty-cache" / "blobs" / "sha256").iterdir())
