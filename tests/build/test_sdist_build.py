"""Packages with no wheel, built from their sdists in the sandbox: a pure-Python one and a
C extension, served by a local index on 127.0.0.1, locked, built, and run with runc."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.building import build_project
from cog.errors import BuildError
from cog.progress import NullProgress
from cog.rules.cache import Cache
from cog.rules.lockfile_text import loads
from cog.rules.oci import OciLayout
from cog.rules.sdist_build import SdistBuilder, bwrap_argv
from tests.support.local_index import LocalIndex, serving_index
from tests.support.python_standalone import (
    EXTRA_LIBS,
    make_mirror,
    pyenv_build,
    serve_mirror,
    write_table,
)

from ._runc import free_port, get_json, run_once, serving, unpack, wait_ready
from ._sdists import BROKEN_NAME, CEXT_NAME, PURE_NAME, cext_sdist, pure_sdist
from .conftest import Built, build, lock

pytestmark = [pytest.mark.integration, pytest.mark.network]

PREDICT = """\
from cog import BasePredictor
from sdist_pure_demo import shout
from sdist_cext_demo import triple


class Predictor(BasePredictor):
    def predict(self, text: str) -> str:
        return f"{shout(text)} {triple(len(text))}"
"""


class _Recorder(NullProgress):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    root = tmp_path_factory.mktemp("sdist-index")
    pure_sdist(root)
    cext_sdist(root)
    cext_sdist(root, name=BROKEN_NAME)
    with serving_index(root) as served:
        yield served


def _project(dest: Path, index: LocalIndex, *packages: str) -> Path:
    dest.mkdir(parents=True)
    (dest / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n'
        "predict: predict.py:Predictor\n"
    )
    lines = [f"--extra-index-url {index.simple}", *packages]
    (dest / "requirements.txt").write_text("\n".join(lines) + "\n")
    (dest / "predict.py").write_text(PREDICT)
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, index: LocalIndex, cog_source: Path) -> Built:
    root = tmp_path_factory.mktemp("sdists")
    project = _project(root / "project", index, f"{PURE_NAME}==1.0", f"{CEXT_NAME}==1.0")
    lock(project)
    return Built(project, build(project, root / "cache", cog_source, tag="sdists"))


def _cache_dir(built: Built) -> Path:
    return built.project.parent / "cache"


def _layers(built: Built) -> list[str]:
    layout = OciLayout(built.result.layout)
    manifest = json.loads(layout.blob(built.result.manifest_digest).read_text())
    return [layer["digest"] for layer in manifest["layers"]]


def test_the_image_predicts_with_both_packages(built: Built, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    unpack(built.result.layout, "sdists", bundle)
    with serving(bundle, free_port()) as base:
        health = wait_ready(base)
        assert health["status"] == "READY", health
        prediction = get_json(f"{base}/predictions", {"input": {"text": "hello"}})
    assert prediction["status"] == "succeeded", prediction
    assert prediction["output"] == "HELLO! 15"


def test_the_compilers_build_the_wheel_but_stay_out_of_the_image(built: Built) -> None:
    layout = OciLayout(built.result.layout)
    names: set[str] = set()
    for digest in _layers(built):
        with tarfile.open(layout.blob(digest)) as tar:
            names |= set(tar.getnames())
    site = "usr/local/lib/python3.11/dist-packages"
    assert f"{site}/sdist_pure_demo/__init__.py" in names
    assert f"{site}/sdist_cext_demo/_speed.cpython-311-x86_64-linux-gnu.so" in names
    for compiler_file in ("usr/bin/gcc", "usr/bin/cc", "usr/include/python3.11/Python.h"):
        assert compiler_file not in names
    assert not any(n.startswith("usr/lib/gcc/") for n in names)


def test_two_builds_from_one_cache_give_one_digest(built: Built, cog_source: Path) -> None:
    again = build(built.project, _cache_dir(built), cog_source, tag="sdists")
    assert again.manifest_digest == built.result.manifest_digest
    # Rebuilt from the sdists (--no-cache), the wheels are bit-for-bit the cached ones.
    progress = _Recorder()
    rebuilt = build_project(
        built.project,
        tag="sdists",
        separate_weights=False,
        no_cache=True,
        progress=progress,
        cache=Cache(_cache_dir(built)),
        cog_source=cog_source,
    )
    assert rebuilt.manifest_digest == built.result.manifest_digest
    assert not [m for m in progress.messages if "bit-reproducible" in m]


def test_a_failing_sdist_build_names_the_package_its_output_and_a_hint(
    built: Built, index: LocalIndex, tmp_path: Path, cog_source: Path
) -> None:
    project = _project(tmp_path / "broken", index, f"{BROKEN_NAME}==1.0")
    lock(project)
    with pytest.raises(BuildError) as info:
        build(project, _cache_dir(built), cog_source, tag="broken")
    message = info.value.message
    assert f"building {BROKEN_NAME} 1.0 from its sdist" in message
    assert "speed.c" in message  # gcc's own words, from the build's output
    assert "error" in message
    assert info.value.hint is not None
    assert "system_packages" in info.value.hint


def test_a_pure_sdist_builds_with_a_python_build_standalone_interpreter(
    index: LocalIndex, tmp_path: Path, cog_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stand-in archive (tests/support/python_standalone.py) has no C headers: only the
    # pure-Python sdist is built with it, by the interpreter's own layer in the rootfs.
    source = pyenv_build("3.12")
    if source is None:
        pytest.skip("no pyenv CPython 3.12 on this host to make the stand-in archive from")
    standin = make_mirror(tmp_path / "mirror", [source])[0]
    monkeypatch.setenv(
        "COG_PYTHON_STANDALONE_TABLE", str(write_table(tmp_path / "t.toml", [standin]))
    )
    project = _project(tmp_path / "model", index, f"{PURE_NAME}==1.0")
    libs = "".join(f'    - "{p}"\n' for p in EXTRA_LIBS)
    (project / "cog.yaml").write_text(
        f'build:\n  python_version: "{standin.version}"\n'
        f"  python_requirements: requirements.txt\n  system_packages:\n{libs}"
        "predict: predict.py:Predictor\n"
    )
    with serve_mirror(tmp_path / "mirror") as mirror:
        monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror)
        lock(project)
        build(project, tmp_path / "cache", cog_source, tag="pbs")
    bundle = tmp_path / "bundle"
    unpack(project / ".cog" / "image", "pbs", bundle)
    site = bundle / "rootfs/usr/local/lib/python3.12/site-packages"
    assert (site / "sdist_pure_demo/__init__.py").is_file()
    ran = run_once(bundle, ["python", "-c", "import sdist_pure_demo as m; print(m.shout('pbs'))"])
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "PBS!"


def test_the_freeze_label_and_the_sbom_name_the_packages_built_from_sdists(built: Built) -> None:
    layout = OciLayout(built.result.layout)
    manifest = json.loads(layout.blob(built.result.manifest_digest).read_text())
    config = json.loads(layout.blob(manifest["config"]["digest"]).read_text())
    freeze = config["config"]["Labels"]["run.cog.pip_freeze"].splitlines()
    assert {f"{PURE_NAME}==1.0", f"{CEXT_NAME}==1.0"} <= set(freeze)
    sbom = json.loads(built.result.sbom.read_text())
    names = {p["name"] for p in sbom["packages"]}
    assert {PURE_NAME, CEXT_NAME} <= names


_PROBE = """\
import socket, sys
status = open("/proc/self/status").read()
print([line.split()[1] for line in status.splitlines() if line.startswith("CapEff")][0])
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).close()
    print("online")
except OSError:
    print("offline")
"""


def test_the_build_sandbox_is_offline_and_has_no_capabilities(
    built: Built, index: LocalIndex, tmp_path: Path
) -> None:
    lock_ = loads((built.project / "cog.lock").read_text(), "cog.lock")
    cache = Cache(_cache_dir(built))
    builder = SdistBuilder(
        lock_,
        cache,
        lambda items: [],  # the build rootfs is in the cache already
        NullProgress(),
        interpreter=("debian", lambda: None),
        mtime=0,
    )
    rootfs = builder.rootfs()
    (tmp_path / "deps").mkdir()
    (tmp_path / "probe.py").write_text(_PROBE)
    port = index.url.rsplit(":", 1)[1]
    argv = bwrap_argv(rootfs, tmp_path, {"PATH": "/usr/bin"}, ["python3", "/build/probe.py", port])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0000000000000000", "offline"]
    # The same probe outside the sandbox reaches the index: the test can fail.
    outside = subprocess.run(
        [sys.executable, str(tmp_path / "probe.py"), port],
        capture_output=True,
        text=True,
        check=True,
    )
    assert outside.stdout.split()[1] == "online"
