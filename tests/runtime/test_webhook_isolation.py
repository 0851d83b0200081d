"""Hung webhook receivers delay only their own webhooks, and never the shutdown.

The old sender shared one pool of eight blocking threads, whose per-read timeouts a
receiver that trickles its answer never trips: eight such receivers stopped every other
prediction's webhooks, and the shutdown waited for them for ever.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.runtime.conftest import HelperServer, ServerFactory
from tests.runtime.hostile import HostileServer

pytestmark = pytest.mark.integration

GUARD = 30.0  # seconds before a test gives up waiting (the old code waited for ever)


@pytest.fixture
def receivers() -> Iterator[list[HostileServer]]:
    instances = [HostileServer() for _ in range(8)]
    yield instances
    for instance in instances:
        instance.close()


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_eight_hung_receivers_do_not_delay_another_predictions_webhooks(
    server: ServerFactory, helper: HelperServer, receivers: list[HostileServer]
) -> None:
    srv = server("echo.py:Runner")
    for hung in receivers:
        response = srv.predict({"input": {}, "webhook": hung.url + "/trickle-head"})
        assert response.status_code == 200  # a hung receiver never holds its prediction
    _until(lambda: all(hung.open == 1 for hung in receivers), "not every receiver was reached")
    response = srv.predict({"input": {"text": "other"}, "webhook": helper.url + "/webhook"})
    assert response.status_code == 200

    def delivered() -> bool:
        bodies = [json.loads(body) for _, _, _, body in helper.recorded.of("/webhook")]
        return [b["status"] for b in bodies] == ["starting", "succeeded"]

    _until(delivered, "the other prediction's webhooks waited for the hung receivers")


def test_shutdown_drops_webhooks_still_trickling_with_a_log_line(
    server: ServerFactory, receivers: list[HostileServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cog.runtime")
    srv = server("echo.py:Runner", shutdown_grace=1.0)
    hung = receivers[0]
    response = srv.predict({"input": {}, "webhook": hung.url + "/trickle-head"})
    assert response.status_code == 200
    _until(lambda: hung.open == 1, "the receiver was not reached")
    assert requests.post(srv.url + "/shutdown", timeout=30).status_code == 200
    # grace 1 s + cancel_grace 2 s + margins: GUARD is only there so that a hang fails.
    assert srv.join(GUARD), "the server did not shut down while a webhook trickled"
    dropped = [r.getMessage() for r in caplog.records if "dropped the webhooks" in r.getMessage()]
    assert len(dropped) == 1
    assert response.json()["id"] in dropped[0]
    _until(hung.hung_up.is_set, "the abandoned webhook's connection stayed open")


MODEL = """
from cog import BaseRunner, Path


class Runner(BaseRunner):
    def run(self, doc: Path | None = None) -> str:
        return "ran"
"""


def _serve_project(project: Path) -> tuple[subprocess.Popen[str], str]:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n')
    (project / "run.py").write_text(MODEL)
    env = dict(os.environ, PORT="0", COG_SHUTDOWN_GRACE="1")
    env.pop("KUBERNETES_SERVICE_HOST", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
        cwd=project,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return proc, found.group(1)
    raise AssertionError("the server never said where it listens")


def test_sigterm_completes_while_a_download_and_a_webhook_trickle(
    tmp_path: Path, receivers: list[HostileServer]
) -> None:
    proc, url = _serve_project(tmp_path)
    try:
        _until(
            lambda: requests.get(url + "/health-check", timeout=10).json()["status"] == "READY",
            "the server did not get ready",
        )
        hung_webhook, trickling_file = receivers[0], receivers[1]
        done = requests.post(
            url + "/predictions",
            json={"input": {}, "webhook": hung_webhook.url + "/trickle-head"},
            timeout=30,
        )
        assert done.json()["status"] == "succeeded"
        accepted = requests.post(
            url + "/predictions",
            json={"input": {"doc": trickling_file.url + "/trickle"}},
            headers={"Prefer": "respond-async"},
            timeout=30,
        )
        assert accepted.status_code == 202
        _until(lambda: hung_webhook.open == 1 and trickling_file.open == 1, "nothing trickles")
        proc.send_signal(signal.SIGTERM)
        # COG_SHUTDOWN_GRACE=1 plus the cancel grace (5 s) and margins; GUARD only
        # turns a hang into a failure.
        assert proc.wait(GUARD) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
        assert proc.stderr is not None
        proc.stderr.close()
