"""Every python_version the reference supports: lock, build, predict and exec for each.

Debian's interpreter for 3.9 (bullseye), 3.11 (bookworm) and 3.13 (trixie);
python-build-standalone for 3.10, 3.12 and the patch pin 3.12.4; 3.8 is refused at lock
time (the runtime has no 3.8 release of its HTTP framework). The pbs cases need
the real archives: they run when UV_PYTHON_INSTALL_MIRROR names a mirror of the pbs
releases, or with COG_TEST_PBS_ONLINE=1 where the release location is reachable, and are
skipped otherwise (the pbs path is covered with a stand-in archive by
tests/build/test_python_standalone.py). One cache for the whole matrix, so the Debian
indexes, debs and runtime wheels are fetched once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.network]

COG = str(Path(sys.executable).parent / "cog")
DEBIAN = {"3.9", "3.11", "3.13"}
MATRIX = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.12.4"]


@pytest.fixture(scope="session")
def matrix_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("python-matrix-cache")


def cog(*args: str, cwd: Path, cache: Path) -> str:
    env = os.environ | {"COG_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"cog {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _project(root: Path, version: str) -> Path:
    root.mkdir()
    (root / "cog.yaml").write_text(
        f'build:\n  python_version: "{version}"\npredict: "predict.py:Predictor"\n'
    )
    (root / "predict.py").write_text(
        "from cog import BasePredictor, Input\n\n\nclass Predictor(BasePredictor):\n"
        '    def predict(self, text: str = Input(description="text")) -> str:\n'
        '        return "hello " + text\n'
    )
    return root


@pytest.mark.parametrize("version", MATRIX)
def test_lock_build_predict_exec(version: str, matrix_cache: Path, tmp_path: Path) -> None:
    online = os.environ.get("UV_PYTHON_INSTALL_MIRROR") or os.environ.get("COG_TEST_PBS_ONLINE")
    if version not in DEBIAN and not online:
        pytest.skip("python-build-standalone archives unreachable: set UV_PYTHON_INSTALL_MIRROR")
    project = _project(tmp_path / f"py{version}", version)
    cog("lock", cwd=project, cache=matrix_cache)
    started = time.monotonic()
    digest = cog("build", "-t", f"py:{version}", cwd=project, cache=matrix_cache).split()[-1]
    built_s = time.monotonic() - started
    assert digest.startswith("sha256:")
    printed = cog(
        "exec", "python", "-c", "import sys; print(sys.version)", cwd=project, cache=matrix_cache
    )
    expected = version + "." if version.count(".") == 1 else version + " "
    assert printed.startswith(expected), printed
    # pip on PATH, installing where the locked wheels are (dist-packages for Debian's).
    site = "dist-packages" if version in DEBIAN else "site-packages"
    pip = cog("exec", "pip", "--version", cwd=project, cache=matrix_cache)
    assert f"/lib/python{version[:4].rstrip('.')}/{site}/pip " in pip, pip
    assert "hello matrix" in cog("predict", "-i", "text=matrix", cwd=project, cache=matrix_cache)
    again = cog("build", "--no-cache", "-t", f"py:{version}", cwd=project, cache=matrix_cache)
    assert again.split()[-1] == digest
    print(f"python {version}: {printed.split()[0]} built in {built_s:.1f} s, {digest}")


def test_python_38_is_refused_at_lock_time(matrix_cache: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "py3.8", "3.8")
    env = os.environ | {"COG_CACHE_DIR": str(matrix_cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, "lock"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "cannot run cog's runtime" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "cog.lock").exists()
