"""A cog killed outright leaves no container serving, and nothing behind after the next start.

The image is examples/hello, locked and built with the `cog` command; every run below is
the `cog` command in a subprocess, SIGKILLed as the OOM killer or `kill -9` would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cog._container.mounts import mounts_beneath
from cog._container.reaper import state_root

pytestmark = [pytest.mark.integration, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
COG = str(Path(sys.executable).parent / "cog")
DEADLINE_S = 60.0


@dataclass(frozen=True)
class Project:
    path: Path
    cache: Path

    @property
    def env(self) -> dict[str, str]:
        # The venv's bin first: the one `cog` and the uv installed with it.
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        return os.environ | {"COG_CACHE_DIR": str(self.cache), "NO_COLOR": "1", "PATH": path}

    @property
    def records(self) -> Path:
        return state_root(self.cache)

    def cog(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [COG, *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"cog {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done

    def start(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            return subprocess.Popen(
                [COG, *args], cwd=self.path, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Project:
    if shutil.which("runc") is None:
        pytest.fail("runc is not installed (Debian package runc)")
    work = tmp_path_factory.mktemp("orphans")
    project = Project(work / "hello", work / "cache")
    ignore = shutil.ignore_patterns(".cog", "cog.lock", "__pycache__")
    shutil.copytree(ROOT / "examples" / "hello", project.path, ignore=ignore)
    subprocess.run([sys.executable, "make_weights.py"], cwd=project.path, check=True)
    project.cog("lock")
    project.cog("build", "-t", "hello")
    return project


def poll(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {DEADLINE_S} s")
        time.sleep(0.05)


def health(port: int) -> str | None:
    try:
        body = requests.get(f"http://127.0.0.1:{port}/health-check", timeout=2).json()
    except requests.ConnectionError:
        return None
    return str(body["status"])


def runc_state(container_id: str) -> str | None:
    done = subprocess.run(
        ["runc", "state", container_id], capture_output=True, text=True, check=False
    )
    return str(json.loads(done.stdout)["status"]) if done.returncode == 0 else None


def running_container(process: subprocess.Popen[bytes], matches: Callable[[Any], bool]) -> str:
    """The id of the running runc container whose config.json ``matches``."""
    found: list[str] = []

    def started() -> bool:
        assert process.poll() is None, "cog exited before its container started"
        listed = subprocess.run(
            ["runc", "list", "-f", "json"], capture_output=True, text=True, check=False
        )
        for container in json.loads(listed.stdout or "null") or []:
            config = Path(container["bundle"]) / "config.json"
            with contextlib.suppress(OSError, ValueError):
                if container["status"] == "running" and matches(json.loads(config.read_text())):
                    found.append(container["id"])
        return bool(found)

    poll(started, "the container is running")
    return found[0]


def assert_nothing_left(project: Project, container_id: str) -> None:
    assert runc_state(container_id) is None
    assert container_id not in Path("/proc/self/mountinfo").read_text()
    assert mounts_beneath(project.records) == []
    assert sorted(p.name for p in project.records.iterdir()) == []
    assert not list(Path(tempfile.gettempdir()).glob(f"{container_id}-*"))  # old bundles


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_sigkilled_serve_stops_serving_and_the_next_start_cleans_up(
    hello: Project, tmp_path: Path
) -> None:
    port = free_port()
    server = hello.start("serve", "hello", "-p", str(port), log=tmp_path / "serve.log")
    try:
        poll(lambda: server.poll() is None and health(port) == "READY", "the server is READY")
        container_id = running_container(
            server, lambda config: f"PORT={port}" in config["process"]["env"]
        )
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()

    poll(lambda: health(port) is None, f"nothing answers on port {port}")
    poll(lambda: runc_state(container_id) is None, f"runc has no container {container_id}")

    ran = hello.cog("run", "hello", "-i", "name=next")  # the next start of a container
    assert ran.stdout == "hello, next!\n"
    assert_nothing_left(hello, container_id)


def test_a_container_that_outlived_its_killed_cog_is_reaped_on_the_next_start(
    hello: Project, tmp_path: Path
) -> None:
    # PID 1 of a PID namespace ignores the SIGTERM runc forwards when cog dies, unless
    # it handles it: this container keeps running until a later cog removes it.
    sleeper = ("python3", "-c", "import time; time.sleep(600)")
    process = hello.start("exec", *sleeper, log=tmp_path / "exec.log")
    try:
        container_id = running_container(
            process, lambda config: config["process"]["args"] == list(sleeper)
        )
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert runc_state(container_id) == "running"

    done = hello.cog("exec", "python3", "-c", "print('next')")
    assert done.stdout == "next\n"
    assert_nothing_left(hello, container_id)
