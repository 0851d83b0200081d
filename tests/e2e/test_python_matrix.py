"""Every python_version the reference supports: lock, build, predict and exec for each.

Debian's interpreter for 3.9 (bullseye), 3.11 (bookworm) and 3.13 (trixie);
python-build-standalone (pbs) for 3.8, 3.10, 3.12 and the patch pin 3.11.7 (a patch that
bookworm, which ships 3.11.2, does not have). The pbs archives are STAND-INS unless
UV_PYTHON_INSTALL_MIRROR names a real mirror of the pbs releases (or COG_TEST_PBS_ONLINE=1
where the release location is reachable): the host's pyenv builds packed in pbs's layout
and served from a mirror on 127.0.0.1 (tests/support/python_standalone.py says how they
differ from real pbs builds); a version with no pyenv build on the host is skipped. One
cache for the whole matrix, so the Debian indexes, debs and runtime wheels are fetched once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cog.rules.self_package import snapshot
from tests.support.python_standalone import (
    EXTRA_LIBS,
    MIRROR_ENV,
    TABLE_ENV,
    make_mirror,
    one_input_project,
    pyenv_build,
    serve_mirror,
    write_table,
)

pytestmark = [pytest.mark.e2e, pytest.mark.network]

COG = str(Path(sys.executable).parent / "cog")
DEBIAN = {"3.9", "3.11", "3.13"}
STANDALONE = ["3.8", "3.10", "3.12", "3.11.7"]
MATRIX = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.11.7"]


@dataclass
class Pbs:
    """How the pbs cases get their archives: ``env`` for cog, and which versions have one."""

    env: dict[str, str] = field(default_factory=dict)
    standin: bool = False
    missing: set[str] = field(default_factory=set)


def _online() -> bool:
    return bool(os.environ.get(MIRROR_ENV) or os.environ.get("COG_TEST_PBS_ONLINE"))


@pytest.fixture(scope="session")
def pbs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pbs]:
    if _online():
        yield Pbs()
        return
    sources = {v: pyenv_build(v) for v in STANDALONE}
    found = [s for s in sources.values() if s is not None]
    root = tmp_path_factory.mktemp("pbs-mirror")
    table = write_table(root / "table.toml", make_mirror(root / "mirror", found))
    with serve_mirror(root / "mirror") as url:
        env = {TABLE_ENV: str(table), MIRROR_ENV: url}
        yield Pbs(env, standin=True, missing={v for v, s in sources.items() if s is None})


@pytest.fixture(scope="session")
def matrix_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("python-matrix-cache")


@pytest.fixture(scope="session")
def cog_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the cog package, which the cog command runs from (PYTHONPATH) and puts
    into every image, so that edits to the working tree during the matrix cannot make a
    rebuild differ."""
    return snapshot(tmp_path_factory.mktemp("cog-source"))


def cog(*args: str, cwd: Path, cache: Path, env: dict[str, str]) -> str:
    full = os.environ | env | {"COG_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"cog {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@pytest.mark.parametrize("version", MATRIX)
def test_lock_build_predict_exec(
    version: str, pbs: Pbs, matrix_cache: Path, cog_source: Path, tmp_path: Path
) -> None:
    if version in pbs.missing:
        pytest.skip(f"no pyenv CPython {version} on this host to make the stand-in pbs archive")
    extra = EXTRA_LIBS if pbs.standin and version not in DEBIAN else ()
    project = one_input_project(tmp_path / f"py{version}", version, extra)

    def run(*args: str) -> str:
        env = pbs.env | {"PYTHONPATH": str(cog_source)}
        return cog(*args, cwd=project, cache=matrix_cache, env=env)

    run("lock")
    assert "127.0.0.1" not in (project / "cog.lock").read_text()
    started = time.monotonic()
    digest = run("build", "-t", f"py:{version}").split()[-1]
    built_s = time.monotonic() - started
    assert digest.startswith("sha256:")
    printed = run("exec", "python", "-c", "import sys; print(sys.version)")
    expected = version + "." if version.count(".") == 1 else version + " "
    assert printed.startswith(expected), printed
    # pip on PATH, installing where the locked wheels are (dist-packages for Debian's).
    site = "dist-packages" if version in DEBIAN else "site-packages"
    pip = run("exec", "pip", "--version")
    assert f"/lib/python{version[:4].rstrip('.')}/{site}/pip " in pip, pip
    assert "hello matrix" in run("predict", "-i", "text=matrix")
    again = run("build", "--no-cache", "-t", f"py:{version}")
    assert again.split()[-1] == digest
    print(f"python {version}: {printed.split()[0]} built in {built_s:.1f} s, {digest}")
