"""`cog serve --local` runs the model in this Python with cog.yaml's environment applied."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

import cog.runtime
from cog.cli.main import cli
from tests.support.local_server import serving, settled_health, wait_ready

COG = Path(sys.executable).parent / "cog"
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


@pytest.mark.integration
def test_the_model_sees_variables_set_in_cog_yaml(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(CONFIG)
    (tmp_path / "run.py").write_text(RUNNER)
    env = {k: v for k, v in os.environ.items() if k not in ("GREETING", "FROM_FLAG")}
    argv = [str(COG), "serve", "--local", "-p", "0", "-e", "FROM_FLAG=flag"]
    with serving(argv, tmp_path, env) as base:
        wait_ready(base)
        answer = requests.post(f"{base}/predictions", json={"input": {"name": "cog"}}, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["output"] == "bonjour, cog! flag"


@pytest.mark.integration
def test_a_missing_predict_file_is_setup_failed_naming_it(tmp_path: Path) -> None:
    # As `python -m cog.runtime` in an image: it serves, and /health-check says why not.
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.12"\npredict: "gone.py:P"\n')
    with serving([str(COG), "serve", "--local", "-p", "0"], tmp_path) as base:
        health = settled_health(base)
        assert health["status"] == "SETUP_FAILED"
        assert "gone.py" in health["setup"]["logs"]
        assert "does not exist" in health["setup"]["logs"]
        answer = requests.post(f"{base}/predictions", json={"input": {}}, timeout=60)
        assert answer.status_code == 503


@pytest.mark.unit
def test_other_cog_yaml_errors_still_stop_it(project: Path, runner: CliRunner) -> None:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.12"\npredict: "gone"\n')
    result = runner.invoke(cli, ["serve", "--local", "-p", "0"])
    assert result.exit_code == 1
    assert "predict must be" in result.stderr
