"""`cog serve --local` runs the model in this Python with cog.yaml's environment applied."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

import cog.runtime
from cog.cli.main import cli

COG = Path(sys.executable).parent / "cog"
SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)")
READY_DEADLINE_S = 60
RUNNER = """import os

from cog import BaseRunner


class Runner(BaseRunner):
    def run(self, name: str) -> str:
        return f"{os.environ['GREETING']}, {name}! {os.environ.get('FROM_FLAG', '-')}"
"""
CONFIG = """build:
  python_version: "3.12"
run: "run.py:Runner"
environment:
  - "GREETING=bonjour"
  - "COG_STREAM_HISTORY_CAPACITY=7"
"""


@pytest.mark.unit
def test_serve_local_sets_the_environment_while_it_serves(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text(CONFIG)
    (project / "run.py").write_text(RUNNER)
    monkeypatch.delenv("GREETING", raising=False)
    monkeypatch.setenv("FROM_FLAG", "shell")
    seen: list[dict[str, Any]] = []

    def serve_local(*_: object) -> None:
        seen.append({n: os.environ.get(n) for n in ("GREETING", "FROM_FLAG")})
        seen.append({"history": cog.runtime.Settings.from_env_and_args().stream_history_capacity})

    monkeypatch.setattr(cog.runtime, "serve_local", serve_local)
    result = runner.invoke(cli, ["serve", "--local", "-p", "0", "-e", "FROM_FLAG=flag"])
    assert result.exit_code == 0, result.output
    assert seen == [{"GREETING": "bonjour", "FROM_FLAG": "flag"}, {"history": 7}]
    assert "GREETING" not in os.environ  # restored afterwards
    assert os.environ["FROM_FLAG"] == "shell"


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        status = requests.get(f"{base}/health-check", timeout=5).json()["status"]
        if status == "READY":
            return
        assert status == "STARTING", status
        time.sleep(0.1)
    raise AssertionError(f"{base} not READY after {READY_DEADLINE_S} s")


@pytest.mark.integration
def test_the_model_sees_variables_set_in_cog_yaml(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(CONFIG)
    (tmp_path / "run.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("GREETING", "FROM_FLAG")}
    argv = [str(COG), "serve", "--local", "-p", "0", "-e", "FROM_FLAG=flag"]
    server = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert server.stdout is not None
        lines: list[str] = []
        for line in server.stdout:  # pytest-timeout ends a server that never says
            lines.append(line)
            if match := SERVING.search(line):
                break
        else:
            raise AssertionError(f"the server exited before serving:\n{''.join(lines)}")
        base = f"http://127.0.0.1:{match.group(1)}"
        _wait_ready(base)
        answer = requests.post(f"{base}/predictions", json={"input": {"name": "cog"}}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"] == "bonjour, cog! flag"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _serving(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    lines: list[str] = []
    for line in server.stdout:  # pytest-timeout ends a server that never says
        lines.append(line)
        if match := SERVING.search(line):
            return f"http://127.0.0.1:{match.group(1)}"
    raise AssertionError(f"the server exited before serving:\n{''.join(lines)}")


@pytest.mark.integration
def test_a_missing_predict_file_is_setup_failed_naming_it(tmp_path: Path) -> None:
    # As `python -m cog.runtime` in an image: it serves, and /health-check says why not.
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.12"\npredict: "gone.py:P"\n')
    argv = [str(COG), "serve", "--local", "-p", "0"]
    server = subprocess.Popen(
        argv, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        base = _serving(server)
        deadline = time.monotonic() + READY_DEADLINE_S
        while (health := requests.get(f"{base}/health-check", timeout=5).json())[
            "status"
        ] == "STARTING":
            assert time.monotonic() < deadline, health
            time.sleep(0.1)
        assert health["status"] == "SETUP_FAILED"
        assert "gone.py" in health["setup"]["logs"]
        assert "does not exist" in health["setup"]["logs"]
        answer = requests.post(f"{base}/predictions", json={"input": {}}, timeout=60)
        assert answer.status_code == 503
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


@pytest.mark.unit
def test_other_cog_yaml_errors_still_stop_it(project: Path, runner: CliRunner) -> None:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.12"\npredict: "gone"\n')
    result = runner.invoke(cli, ["serve", "--local", "-p", "0"])
    assert result.exit_code == 1
    assert "predict must be" in result.stderr
