"""``python -m cog.runtime`` as an image runs it: cog.yaml, PORT, SIGTERM draining."""

from __future__ import annotations

import concurrent.futures
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parent.parent / "fixtures" / "runtime" / "project"


class Process:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url


SERVE_LOCAL = (
    "from pathlib import Path; from cog.runtime import serve_local; "
    "serve_local(Path('.'), '127.0.0.1', 0, None)"
)


@pytest.fixture(
    params=[["-m", "cog.runtime", "--host", "127.0.0.1"], ["-c", SERVE_LOCAL]],
    ids=["python -m cog.runtime", "serve_local"],
)
def runtime_process(request: pytest.FixtureRequest) -> Iterator[Process]:
    yield from _launch(request.param)


def _launch(args: list[str]) -> Generator[Process, None, None]:
    env = dict(os.environ, PORT="0")
    # Outside these tests' control: a CI pod would otherwise get a readiness file written.
    env.pop("KUBERNETES_SERVICE_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, *args],
        cwd=PROJECT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            url = found.group(1)
    assert url is not None, "the server never said where it listens"
    try:
        yield Process(proc, url)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        proc.stderr.close()


def _wait_ready(url: str) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, object] = requests.get(url + "/health-check", timeout=10).json()
        if body["status"] == "READY":
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.02)


def test_serves_the_cog_yaml_model_and_drains_on_sigterm(runtime_process: Process) -> None:
    url = runtime_process.url
    _wait_ready(url)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        running = [
            pool.submit(
                requests.post, url + "/predictions", json={"input": {"seconds": 1.0}}, timeout=60
            )
            for _ in range(2)
        ]
        deadline = time.monotonic() + 30
        while requests.get(url + "/health-check", timeout=10).json()["status"] != "BUSY":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        runtime_process.proc.send_signal(signal.SIGTERM)
        results = [future.result() for future in running]
    assert [r.status_code for r in results] == [200, 200]
    assert [r.json()["output"] for r in results] == ["slept 1.0", "slept 1.0"]
    assert runtime_process.proc.wait(30) == 0


def test_await_explicit_shutdown_ignores_sigterm() -> None:
    launched = _launch(["-m", "cog.runtime", "--host", "127.0.0.1", "--await-explicit-shutdown"])
    process = next(launched)
    try:
        _wait_ready(process.url)
        process.proc.send_signal(signal.SIGTERM)
        response = requests.post(process.url + "/predictions", json={"input": {}}, timeout=30)
        assert response.json()["output"] == "slept 0.0"
        assert process.proc.poll() is None
        requests.post(process.url + "/shutdown", timeout=10)
        assert process.proc.wait(30) == 0
    finally:
        launched.close()


def test_an_invalid_cog_yaml_is_a_clear_error(tmp_path: Path) -> None:
    # (A missing run.py is not this: the server serves SETUP_FAILED, test_server_semantics.)
    (tmp_path / "run.py").write_text("")
    (tmp_path / "cog.yaml").write_text('build:\n  python_versoin: "3.11"\nrun: "run.py:X"\n')
    result = subprocess.run(
        [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env=dict(os.environ, PORT="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cog.yaml:2" in result.stderr
    assert "python_versoin" in result.stderr
    assert "Traceback" not in result.stderr
