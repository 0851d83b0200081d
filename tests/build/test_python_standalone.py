"""A python-build-standalone (pbs) interpreter locked, fetched from the user's uv mirror,
built into an image on Debian bookworm, and run.

STAND-IN archive: the host's pyenv CPython 3.12 packed in pbs's layout and served from a
mirror on 127.0.0.1 by tests/support/python_standalone.py (which says how it differs from
a real pbs build). Its sha256 is pinned in a table of the test's own, named by
COG_PYTHON_STANDALONE_TABLE, so the build's fetch checks the lock's sha256 against the
bytes it got.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.building import build_project
from cog.errors import FetchError
from cog.locking import lock_project
from cog.progress import NullProgress
from cog.rules.cache import Cache
from cog.rules.lockfile_text import loads
from tests.build._runc import free_port, get_json, run_once, serving, unpack, wait_ready
from tests.support.python_standalone import (
    EXTRA_LIBS,
    RELEASE,
    Standin,
    make_mirror,
    pyenv_build,
    serve_mirror,
    write_table,
)

pytestmark = [pytest.mark.integration, pytest.mark.network]


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Standin]:
    """(mirror directory, the stand-in archive of pyenv's newest 3.12)."""
    source = pyenv_build("3.12")
    if source is None:
        pytest.skip("no pyenv CPython 3.12 on this host to make the stand-in archive from")
    mirror = tmp_path_factory.mktemp("mirror")
    return mirror, make_mirror(mirror, [source])[0]


@pytest.fixture
def mirror_server(standin: tuple[Path, Standin]) -> Iterator[str]:
    with serve_mirror(standin[0]) as url:
        yield url


def _project(root: Path, python_version: str) -> Path:
    root.mkdir()
    packages = "".join(f'    - "{p}"\n' for p in EXTRA_LIBS)
    (root / "cog.yaml").write_text(
        f'build:\n  python_version: "{python_version}"\n  system_packages:\n{packages}'
        'predict: "predict.py:Predictor"\n'
    )
    (root / "predict.py").write_text(
        "from cog import BasePredictor, Input\n\n\nclass Predictor(BasePredictor):\n"
        '    def predict(self, text: str = Input(description="text")) -> str:\n'
        '        return "hello " + text\n'
    )
    return root


def _build(project: Path, cache: Path, cog_source: Path) -> str:
    result = build_project(
        project,
        tag="standalone",
        separate_weights=False,
        no_cache=False,
        progress=NullProgress(),
        cache=Cache(cache),
        cog_source=cog_source,
    )
    return result.manifest_digest


def test_a_patch_pin_builds_from_the_mirror_and_runs(
    standin: tuple[Path, Standin],
    mirror_server: str,
    tmp_path: Path,
    cog_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version, sha256 = standin[1].version, standin[1].sha256
    monkeypatch.setenv(
        "COG_PYTHON_STANDALONE_TABLE", str(write_table(tmp_path / "t.toml", [standin[1]]))
    )
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror_server)
    project = _project(tmp_path / "model", version)
    lock_project(project, progress=NullProgress())
    lock = loads((project / "cog.lock").read_text(), "cog.lock")
    assert lock.interpreter is not None
    assert (lock.interpreter.source, lock.interpreter.version) == (
        "python-build-standalone",
        version,
    )
    assert (lock.interpreter.release, lock.interpreter.sha256) == (RELEASE, sha256)
    assert not any(d.name.startswith("python3") for d in lock.debian)
    assert "127.0.0.1" not in (project / "cog.lock").read_text()

    digest = _build(project, tmp_path / "cache", cog_source)
    bundle = tmp_path / "bundle"
    unpack(project / ".cog/image", "standalone", bundle)
    rootfs = bundle / "rootfs"
    assert (rootfs / "usr/local/bin/python").is_symlink()
    # pip is a wheel of the lock's model set (the archive's own is left out), on PATH.
    assert not (rootfs / "usr/local/bin/pip3.12").exists()
    for script in ("pip", "pip3"):
        pip_script = (rootfs / "usr/local/bin" / script).read_bytes()
        assert pip_script.startswith(b"#!/usr/local/bin/python3.12\n")
    pips = sorted(p.name for p in (rootfs / "usr/local/lib/python3.12/site-packages").glob("pip*"))
    assert [n for n in pips if n.endswith(".dist-info")] == [
        f"pip-{next(w.version for w in lock.python if w.name == 'pip')}.dist-info"
    ]
    pycs = list((rootfs / "usr/local/lib/python3.12").glob("__pycache__/os.cpython-312.pyc"))
    assert pycs
    assert pycs[0].read_bytes()[4:8] == b"\x01\x00\x00\x00"  # unchecked-hash
    ran = run_once(bundle, ["python", "-c", "import sys, pip; print(sys.version.split()[0])"])
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == version
    ran = run_once(bundle, ["pip", "--version"])
    assert ran.returncode == 0, ran.stderr
    assert "/usr/local/lib/python3.12/site-packages/pip (python 3.12)" in ran.stdout
    with serving(bundle, free_port()) as base:
        health = wait_ready(base)
        assert health["status"] == "READY", health
        prediction = get_json(f"{base}/predictions", {"input": {"text": "pbs"}})
    assert prediction["output"] == "hello pbs"
    # A fresh cache fetches the archive again and gives the same image.
    shutil.rmtree(project / ".cog")
    assert _build(project, tmp_path / "cache2", cog_source) == digest


def test_an_archive_that_does_not_match_the_lock_is_refused(
    standin: tuple[Path, Standin],
    mirror_server: str,
    tmp_path: Path,
    cog_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    version = standin[1].version
    table = write_table(tmp_path / "t.toml", [standin[1]], sha256="0" * 64)
    monkeypatch.setenv("COG_PYTHON_STANDALONE_TABLE", str(table))
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror_server)
    project = _project(tmp_path / "model", version)
    lock_project(project, progress=NullProgress())
    with pytest.raises(FetchError, match="sha256"):
        _build(project, tmp_path / "cache", cog_source)
