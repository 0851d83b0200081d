"""A `cog serve --local` (or any command printing "serving on URL") run for a test: started,
its URL read from its output, its health waited for, and stopped however the test ends."""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import requests

SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)")
READY_DEADLINE_S = 60


@contextlib.contextmanager
def serving(argv: Sequence[str], cwd: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """The server's base URL, once it says it serves; SIGTERM (then SIGKILL) on the way out."""
    server = subprocess.Popen(
        argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield _base_url(server)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()


def _base_url(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    lines: list[str] = []
    for line in server.stdout:  # pytest-timeout ends a server that never says
        lines.append(line)
        if match := SERVING.search(line):
            return f"http://127.0.0.1:{match.group(1)}"
    raise AssertionError(f"the server exited before serving:\n{''.join(lines)}")


def settled_health(base: str) -> dict[str, Any]:
    """The first /health-check answer that is no longer STARTING."""
    deadline = time.monotonic() + READY_DEADLINE_S
    while time.monotonic() < deadline:
        health: dict[str, Any] = requests.get(f"{base}/health-check", timeout=5).json()
        if health["status"] != "STARTING":
            return health
        time.sleep(0.1)
    raise AssertionError(f"{base} still STARTING after {READY_DEADLINE_S} s")


def wait_ready(base: str) -> None:
    status = settled_health(base)["status"]
    assert status == "READY", status
