"""The whole user path, from a fresh project to a prediction, against real components.

lock → build → push to a real docker-registry → pull into an empty cache → `cog run` by
reference → `cog serve` and curl → the same pushed image under podman. Every step runs
the installed `cog` command in a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import oras.provider
import pytest
import requests

from cog.rules.oci import MEDIA_INDEX
from cog.rules.registry.referrers import COG_LOCK_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE, referrers_tag
from tests.support.registry import Registry, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
COG = str(Path(sys.executable).parent / "cog")
READY_DEADLINE_S = 60.0


def cog(*args: str, cwd: Path, cache: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COG_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"cog {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """examples/hello, locked and built: (project, cache, manifest digest)."""
    work = tmp_path_factory.mktemp("e2e")
    project = work / "hello"
    shutil.copytree(ROOT / "examples" / "hello", project, ignore=shutil.ignore_patterns(".cog"))
    subprocess.run(["./prepare.sh"], cwd=project, check=True, capture_output=True)
    cache = work / "cache-build"
    cog("lock", cwd=project, cache=cache)
    out = cog("build", "-t", "hello:e2e", cwd=project, cache=cache).stdout
    digest = out.split()[-1]
    assert digest.startswith("sha256:"), out
    return project, cache, digest


def wait_ready(port: int, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"server exited early: {process.communicate()}")
        try:
            health = requests.get(f"http://127.0.0.1:{port}/health-check", timeout=1).json()
        except requests.ConnectionError:
            time.sleep(0.1)
            continue
        if health["status"] == "READY":
            return
        assert health["status"] == "STARTING", health
        time.sleep(0.1)
    raise AssertionError(f"not READY on port {port} after {READY_DEADLINE_S} s")


def predict(port: int, name: str) -> dict[str, object]:
    response = requests.post(
        f"http://127.0.0.1:{port}/predictions", json={"input": {"name": name}}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_push_pull_run_serve(
    built: tuple[Path, Path, str], registry: Registry, tmp_path: Path
) -> None:
    project, build_cache, digest = built
    reference = f"{registry.host}/e2e/hello:v1"

    pushed = cog("push", reference, cwd=project, cache=build_cache).stdout
    assert f"@{digest}" in pushed
    again = cog("push", reference, cwd=project, cache=build_cache).stdout
    assert "0 uploaded" in again

    # The lock and the SBOM are the image's referrers, as any OCI client lists them.
    oras_client = oras.provider.Registry(hostname=registry.host, insecure=True)
    referrers = oras_client.get_manifest(
        f"{registry.host}/e2e/hello:{referrers_tag(digest)}", allowed_media_type=[MEDIA_INDEX]
    )
    kinds = sorted(entry["artifactType"] for entry in referrers["manifests"])
    assert kinds == sorted([COG_LOCK_ARTIFACT_TYPE, SPDX_ARTIFACT_TYPE])

    elsewhere = tmp_path / "elsewhere"  # no cog.yaml here: only the registry has the model
    elsewhere.mkdir()
    fresh_cache = tmp_path / "cache-pull"
    pulled = cog("pull", reference, cwd=elsewhere, cache=fresh_cache).stdout
    assert f"@{digest}" in pulled

    attached = tmp_path / "attached"
    cog("pull", reference, "--with-sbom", str(attached), cwd=elsewhere, cache=fresh_cache)
    assert (attached / "cog.lock").read_bytes() == (project / "cog.lock").read_bytes()
    sbom = json.loads((attached / "sbom.spdx.json").read_text())
    assert sbom["spdxVersion"] == "SPDX-2.3"
    names = {package["name"] for package in sbom["packages"]}
    assert {"libc6", "python3.11", "pydantic", "trio"} <= names

    ran = cog("run", reference, "-i", "name=e2e", "-i", "times=2", cwd=elsewhere, cache=fresh_cache)
    assert ran.stdout == "hello, e2e! hello, e2e!\n"

    too_many = cog(
        "run", reference, "-i", "times=20", cwd=elsewhere, cache=fresh_cache, check=False
    )
    assert too_many.returncode == 1
    assert "times: 20 is greater than the maximum of 10" in too_many.stderr  # the server's 422
    assert "Traceback" not in too_many.stderr
    unknown = cog("run", reference, "-i", "nobody=1", cwd=elsewhere, cache=fresh_cache, check=False)
    assert unknown.returncode == 1
    assert 'unknown input "nobody"; valid inputs are: ' in unknown.stderr

    port = free_port()
    env = os.environ | {"COG_CACHE_DIR": str(fresh_cache)}
    server = subprocess.Popen(
        [COG, "serve", reference, "-p", str(port)],
        cwd=elsewhere,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(port, server)
        body = predict(port, "curl")
        assert body["status"] == "succeeded"
        assert body["output"] == "hello, curl!"
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
    assert list(Path("/run/runc").glob("cog-*")) == []


def podman_env(root: Path, registry: Registry) -> dict[str, str]:
    """podman configured as CONTRIBUTING.md says, with its storage and registries kept in root."""
    (root / "containers.conf").write_text(
        "[containers]\n"
        'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
        "[engine]\n"
        'runtime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    )
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    (root / "registries.conf").write_text(
        f'[[registry]]\nlocation = "{registry.host}"\ninsecure = true\n'
    )
    return os.environ | {
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(root / "registries.conf"),
    }


def test_podman_runs_the_pushed_image(
    built: tuple[Path, Path, str], registry: Registry, tmp_path: Path
) -> None:
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (Debian package podman)")
    project, build_cache, digest = built
    reference = f"{registry.host}/e2e/podman:v1"
    cog("push", reference, cwd=project, cache=build_cache)
    env = podman_env(tmp_path, registry)
    port = free_port()
    name = f"cog-e2e-{port}"

    def podman(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["podman", *args], env=env, capture_output=True, text=True, timeout=300, check=False
        )

    started = podman(
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        reference,
        "python3",
        "-m",
        "cog.runtime",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    )
    try:
        assert started.returncode == 0, started.stderr
        inspected = json.loads(podman("image", "inspect", reference).stdout)
        assert inspected[0]["Digest"] == digest
        wait_ready(port)
        assert predict(port, "podman")["output"] == "hello, podman!"
    finally:
        podman("rm", "-f", name)
        podman("rmi", "-f", reference)


BROKEN_RUNNER = """
from cog import BaseRunner


class Runner(BaseRunner):
    def setup(self) -> None:
        print("loading weights from /nowhere")
        raise RuntimeError("weights not found")

    def run(self, name: str = "x") -> str:
        return name
"""


def test_setup_failure_shows_the_setup_logs(built: tuple[Path, Path, str], tmp_path: Path) -> None:
    project, build_cache, _ = built
    broken = tmp_path / "broken"
    shutil.copytree(project, broken, ignore=shutil.ignore_patterns(".cog", "cog.lock"))
    (broken / "run.py").write_text(BROKEN_RUNNER)
    stale = cog("run", "-i", "name=x", cwd=broken, cache=build_cache, check=False)
    assert stale.returncode == 1
    assert "cog lock" in stale.stderr  # no lock yet: the build says which command to run

    cog("lock", cwd=broken, cache=build_cache)
    failed = cog("run", "-i", "name=x", cwd=broken, cache=build_cache, check=False)
    assert failed.returncode == 1, failed.stdout
    assert (
        "error: the model's setup failed: RuntimeError: weights not found (its output is above)"
        in failed.stderr
    )
    # What setup printed streams live from the container, once (not again in the error).
    assert failed.stderr.count("loading weights from /nowhere") == 1
    assert failed.stderr.count("Traceback (most recent call last)") == 1  # the model's
    assert failed.stdout == ""


SLOW_RUNNER = """
import time

from cog import BaseRunner


class Runner(BaseRunner):
    def run(self, seconds: float = 0.0) -> str:
        print("sleeping", flush=True)
        time.sleep(seconds)
        return f"slept {seconds}"
"""

TRAINER = """
from cog import Path


def train(steps: int = 1) -> Path:
    out = Path("/tmp/weights.txt")
    out.write_text(f"trained {steps} steps\\n")
    return out
"""


@pytest.fixture(scope="module")
def extras(built: tuple[Path, Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with a slow run() and a train(), locked and built with the shared cache."""
    _, build_cache, _ = built
    extras = tmp_path_factory.mktemp("extras") / "project"
    extras.mkdir()
    (extras / "run.py").write_text(SLOW_RUNNER)
    (extras / "train.py").write_text(TRAINER)
    (extras / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\ntrain: "train.py:train"\n'
    )
    cog("lock", cwd=extras, cache=build_cache)
    cog("build", "-t", "extras", cwd=extras, cache=build_cache)
    return extras


def _our_leftovers() -> list[str]:
    state = sorted(str(p) for p in Path("/run/runc").glob("cog-*"))
    mounts = [line for line in Path("/proc/mounts").read_text().splitlines() if "/cog-" in line]
    return state + mounts


def test_exec_runs_in_the_image_with_the_project_mounted(
    built: tuple[Path, Path, str], extras: Path
) -> None:
    _, build_cache, _ = built
    (extras / "note.txt").write_text("from the host\n")
    done = cog(
        "exec",
        "python3",
        "-c",
        "import os, sys; print(os.getcwd(), sys.version_info[:2], open('note.txt').read().strip())",
        cwd=extras,
        cache=build_cache,
    )
    assert done.stdout == "/src (3, 11) from the host\n"
    failing = cog(
        "exec", "python3", "-c", "raise SystemExit(7)", cwd=extras, cache=build_cache, check=False
    )
    assert failing.returncode == 7


def test_train_writes_its_output_file(built: tuple[Path, Path, str], extras: Path) -> None:
    _, build_cache, _ = built
    cog("train", "-i", "steps=3", cwd=extras, cache=build_cache)
    assert (extras / "weights").read_text() == "trained 3 steps\n"


def test_ctrl_c_cancels_and_leaves_nothing_behind(
    built: tuple[Path, Path, str], extras: Path
) -> None:
    _, build_cache, _ = built
    before = _our_leftovers()
    env = os.environ | {"COG_CACHE_DIR": str(build_cache)}
    process = subprocess.Popen(
        [COG, "run", "extras", "-i", "seconds=600"],
        cwd=extras,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stderr is not None
    watchdog = threading.Timer(READY_DEADLINE_S, process.kill)  # if "sleeping" never shows
    watchdog.start()
    for line in process.stderr:  # the model's logs reach our stderr while it runs
        if "sleeping" in line:
            break
    watchdog.cancel()
    started = time.monotonic()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert time.monotonic() - started < 30
    assert _our_leftovers() == before


def test_cog_run_with_podman_as_the_runtime(
    built: tuple[Path, Path, str], registry: Registry, tmp_path: Path
) -> None:
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed (Debian package podman)")
    project, build_cache, _ = built
    env = podman_env(tmp_path, registry) | {"COG_CACHE_DIR": str(build_cache)}
    done = subprocess.run(
        [COG, "run", "hello:e2e", "--runtime", "podman", "-i", "name=engine"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello, engine!\n"
    left = subprocess.run(
        ["podman", "ps", "-a", "--format", "{{.Names}}"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert [name for name in left.stdout.split() if name.startswith("cog-")] == []
