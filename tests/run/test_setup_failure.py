"""A failed setup, as `cog run` shows it: the model's output streams live, once; the error
names the failure and points at that output rather than repeating it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cog._container.api_client import RuntimeClient, setup_failed
from cog._container.session import free_port
from cog.errors import RunError

pytestmark = pytest.mark.integration

CONFIG = 'build:\n  python_version: "3.12"\nrun: "run.py:Runner"\n'
RUNNER = """from cog import BaseRunner


class Runner(BaseRunner):
    def setup(self) -> None:
        print("loading weights from /nowhere", flush=True)
        raise RuntimeError("weights not found")

    def run(self, name: str = "x") -> str:
        return name
"""


def test_setup_output_is_shown_once_and_the_error_names_the_failure(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text(CONFIG)
    (tmp_path / "run.py").write_text(RUNNER)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    # As running_server does: the server's stdout and stderr are the user's stderr.
    with (tmp_path / "stream.txt").open("w") as stream:
        server = subprocess.Popen(
            [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
            cwd=tmp_path,
            env={**env, "PORT": str(port), "COG_LOG_LEVEL": "warning"},
            stdout=stream,
            stderr=stream,
        )
        try:
            client = RuntimeClient(f"http://127.0.0.1:{port}")
            with pytest.raises(RunError) as failed:
                client.wait_until_ready(120, lambda: server.poll() is None)
        finally:
            server.terminate()
            server.wait(timeout=60)
    streamed = (tmp_path / "stream.txt").read_text()
    error = str(failed.value)
    assert streamed.count("loading weights from /nowhere") == 1
    assert "Traceback (most recent call last)" in streamed
    assert error.splitlines()[0] == (
        "the model's setup failed: RuntimeError: weights not found (its output is above)"
    )
    assert "loading weights" not in error
    assert "Traceback" not in error


def test_a_failure_without_an_exception_line_points_at_the_output() -> None:
    error = setup_failed("cog.yaml:3: run: 'gone.py:R' names gone.py, which does not exist\n")
    assert error.message == "the model's setup failed (its output is above)"
    assert setup_failed("").message == "the model's setup failed (its output is above)"
