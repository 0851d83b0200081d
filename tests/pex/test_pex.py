"""The single-file ``cog.pex``, run as a user without this checkout would run it.

The pex is built once per session (x86_64 only) by scripts/build_pex.py and run with the
system Python (/usr/bin/python3), from a directory outside the repository, with no
VIRTUAL_ENV and no .venv/bin on PATH, and a fresh PEX_ROOT so its first start (turning
itself into a venv) is part of what is tested.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cog._version import __version__
from tests.support.local_server import serving, wait_ready

pytestmark = [pytest.mark.integration, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
VENV_COG = str(Path(sys.executable).parent / "cog")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# Each file cog.rules.self_package would put into an image, with its sha256.
SELF_PACKAGE_PROBE = (
    "import hashlib, json; from cog.rules.self_package import package_files; "
    "print(json.dumps({r: hashlib.sha256(p.read_bytes()).hexdigest() "
    "for r, p in package_files()}))"
)


def _outside_venv(entry: str) -> bool:
    """Not the checkout's venv, and no uv there: the pex must bring its own."""
    in_venv = Path(entry).resolve().is_relative_to((ROOT / ".venv").resolve())
    return not in_venv and not (Path(entry) / "uv").exists()


def user_env(home: Path, cache: Path) -> dict[str, str]:
    """The caller's environment minus any trace of the checkout's virtual environment or a uv."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "COG_UV", "UV"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PEX_")}
    env["PATH"] = os.pathsep.join(filter(_outside_venv, env.get("PATH", "").split(os.pathsep)))
    env["PEX_ROOT"] = str(home / "pex-root")
    env["COG_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def pex_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("pex-dist")
    script = ROOT / "scripts" / "build_pex.py"
    out = run(
        [sys.executable, str(script), "--arch", "x86_64", "--dist", str(dist)], ROOT, {**os.environ}
    ).stdout
    pex = dist / "cog.pex"
    assert pex.is_file(), out
    assert f"{pex}: " in out, out  # the script reports size and time for what it wrote
    return pex


@pytest.fixture
def user(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory outside the repository, and the user's environment."""
    work = tmp_path / "work"
    work.mkdir()
    return work, user_env(tmp_path, tmp_path / "cog-cache")


def test_version_is_the_package_version(pex_file: Path, user: tuple[Path, dict[str, str]]) -> None:
    work, env = user
    out = run([SYSTEM_PYTHON, str(pex_file), "--version"], work, env).stdout
    assert out.split()[-1] == __version__
    assert out == run([VENV_COG, "--version"], work, env).stdout


def test_init_then_schema_in_an_empty_directory(
    pex_file: Path, user: tuple[Path, dict[str, str]]
) -> None:
    work, env = user
    run([SYSTEM_PYTHON, str(pex_file), "init"], work, env)
    assert {"cog.yaml", "run.py", "requirements.txt", ".dockerignore"} <= {
        p.name for p in work.iterdir()
    }
    schema = run([SYSTEM_PYTHON, str(pex_file), "schema"], work, env).stdout
    assert "/predictions" in json.loads(schema)["paths"]
    assert schema == run([VENV_COG, "schema"], work, env).stdout


def test_self_package_finds_the_same_files_in_the_pex(
    pex_file: Path, user: tuple[Path, dict[str, str]]
) -> None:
    work, env = user
    probe_env = env | {"PEX_INTERPRETER": "1"}
    in_pex = run([SYSTEM_PYTHON, str(pex_file), "-c", SELF_PACKAGE_PROBE], work, probe_env)
    in_venv = run([sys.executable, "-c", SELF_PACKAGE_PROBE], work, env)
    files, expected = json.loads(in_pex.stdout), json.loads(in_venv.stdout)
    assert {"cog/third_party/runtime.toml", "cog/_templates/run.py.tmpl"} <= set(files)
    # Compared file by file, so a failure names what differs.
    assert {k: v for k, v in files.items() if expected.get(k) != v} == {}
    assert set(files) == set(expected)


def hello_project(dest: Path, env: dict[str, str]) -> Path:
    """A copy of examples/hello with its weights made, as the user's own project."""
    skip = shutil.ignore_patterns(".cog", "cog.lock", "weights", "__pycache__")
    project = shutil.copytree(ROOT / "examples" / "hello", dest, ignore=skip)
    run(["./prepare.sh"], project, env)
    return project


def test_serve_local_from_the_pex_answers_a_prediction(pex_file: Path, tmp_path: Path) -> None:
    # Workers are started with sys.executable: it must be an interpreter that imports cog
    # (pex's venv mode), not the bare system Python the pex was started with.
    env = user_env(tmp_path, tmp_path / "cog-cache")
    project = hello_project(tmp_path / "hello", env)
    argv = [SYSTEM_PYTHON, str(pex_file), "serve", "--local", "-p", "0"]
    with serving(argv, project, env) as base:
        wait_ready(base)
        answer = requests.post(f"{base}/predictions", json={"input": {"name": "pex"}}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"] == "hello, pex!"


def _built_digest(done: subprocess.CompletedProcess[str]) -> str:
    found: list[str] = DIGEST.findall(done.stdout)
    assert found, f"no sha256 digest in the build's output:\n{done.stdout}\n{done.stderr}"
    return found[-1]


def test_the_pex_brings_its_own_uv(pex_file: Path, user: tuple[Path, dict[str, str]]) -> None:
    work, env = user
    assert shutil.which("uv", path=env["PATH"]) is None
    done = subprocess.run(
        [SYSTEM_PYTHON, str(pex_file), "doctor"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # cog doctor writes its findings to stderr, as the reference does.
    (line,) = [line for line in done.stderr.splitlines() if " uv: " in line]
    assert line.startswith("ok     uv: uv 0.13."), done.stderr
    assert f" at {env['PEX_ROOT']}/" in line
    assert line.endswith("(installed with cog)")


@pytest.mark.timeout(900)
def test_build_from_the_pex_gives_the_venv_build_digest(pex_file: Path, tmp_path: Path) -> None:
    pex_cache = tmp_path / "pex-cache"
    env = user_env(tmp_path, pex_cache)
    project = hello_project(tmp_path / "pex" / "hello", env)
    run([SYSTEM_PYTHON, str(pex_file), "lock"], project, env)
    from_pex = _built_digest(run([SYSTEM_PYTHON, str(pex_file), "build"], project, env))

    # The same inputs (lock and weights included) built by the checkout's cog, in its own
    # cache: only downloaded and built blobs are shared, every layer is assembled again.
    twin = shutil.copytree(
        project, tmp_path / "venv" / "hello", ignore=shutil.ignore_patterns(".cog")
    )
    venv_cache = tmp_path / "venv-cache"
    shutil.copytree(pex_cache / "blobs", venv_cache / "blobs")
    venv_env = os.environ | {"COG_CACHE_DIR": str(venv_cache), "NO_COLOR": "1"}
    from_venv = _built_digest(run([VENV_COG, "build"], twin, venv_env))
    assert from_pex == from_venv
