"""SSE streams (events, replay, 406) and webhooks (events, filter, throttle, retries)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
import requests

from tests.runtime.conftest import SSE, HelperServer, Server, ServerFactory, sse_events

pytestmark = pytest.mark.integration


def test_sse_stream_has_start_output_log_completed(shared: ServerFactory) -> None:
    srv = shared("outputs.py:IterRunner")
    response = requests.post(
        srv.url + "/predictions", json={"input": {"n": 2}}, headers=SSE, timeout=30
    )
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "start"
    assert names[-1] == "completed"
    assert [d for n, d in events if n == "output"] == [
        {"chunk": "chunk0", "index": 0},
        {"chunk": "chunk1", "index": 1},
    ]
    assert {"source": "stdout", "data": "step 0\n"} in [d for n, d in events if n == "log"]
    final = events[-1][1]
    assert final["status"] == "succeeded"
    assert final["output"] == ["chunk0", "chunk1"]


def test_sse_metric_events(shared: ServerFactory) -> None:
    srv = shared("outputs.py:MetricsRunner")
    events = sse_events(requests.post(srv.url + "/predictions", json={}, headers=SSE, timeout=30))
    metrics = [d for n, d in events if n == "metric"]
    assert {"name": "temperature", "value": 0.7, "mode": "replace"} in metrics
    assert {"name": "token_count", "value": 1, "mode": "increment"} in metrics
    assert events[-1][1]["metrics"]["token_count"] == 2


def test_sse_on_a_model_that_does_not_stream_is_406(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = requests.post(srv.url + "/predictions", json={}, headers=SSE, timeout=30)
    assert response.status_code == 406
    assert "streaming" in response.json()["detail"]


def _start_slow_stream(srv: Server, prediction_id: str) -> None:
    started = requests.put(
        f"{srv.url}/predictions/{prediction_id}",
        json={"input": {"seconds": 1.0}},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    assert started.status_code == 202
    srv.wait_for("BUSY")


def test_sse_reconnect_replays_the_running_prediction(server: ServerFactory) -> None:
    srv = server("outputs.py:SlowStreamRunner")
    _start_slow_stream(srv, "s1")
    again = requests.put(
        srv.url + "/predictions/s1", json={"input": {"seconds": 1.0}}, headers=SSE, timeout=30
    )
    events = sse_events(again)
    assert [n for n, _ in events] == ["start", "output", "output", "completed"]
    assert events[-1][1]["output"] == ["first", "second"]
    assert events[-1][1]["id"] == "s1"


def test_sse_reconnect_without_history_gets_the_rest_live(server: ServerFactory) -> None:
    # COG_STREAM_HISTORY_CAPACITY=0 keeps no replay, so nothing is "dropped" from it: the
    # reconnecting client hears what happens from then on, completed last (the reference).
    srv = server("outputs.py:SlowStreamRunner", stream_history_capacity=0)
    _start_slow_stream(srv, "s2")
    again = requests.put(
        srv.url + "/predictions/s2", json={"input": {"seconds": 1.0}}, headers=SSE, timeout=30
    )
    names = [n for n, _ in sse_events(again)]
    assert "error" not in names
    assert names[-1] == "completed"


def _wait_for_webhooks(helper: HelperServer, path: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        bodies = [json.loads(body) for _, _, _, body in helper.recorded.of(path)]
        done = any(b["status"] in ("succeeded", "failed", "canceled") for b in bodies)
        if len(bodies) >= count and done:
            return bodies
        assert time.monotonic() < deadline, bodies
        time.sleep(0.02)


def test_webhooks_start_and_completed(shared: ServerFactory, helper: HelperServer) -> None:
    srv: Server = shared("outputs.py:IterRunner")
    response = srv.predict(
        {"input": {"n": 3}, "webhook": helper.url + "/webhook"},
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 202
    bodies = _wait_for_webhooks(helper, "/webhook", 2)
    assert bodies[0]["status"] == "starting"
    assert bodies[-1]["status"] == "succeeded"
    assert bodies[-1]["output"] == ["chunk0", "chunk1", "chunk2"]


def test_webhook_filter_sends_only_completed(shared: ServerFactory, helper: HelperServer) -> None:
    srv = shared("outputs.py:IterRunner")
    srv.predict(
        {
            "input": {"n": 3},
            "webhook": helper.url + "/webhook",
            "webhook_events_filter": ["completed"],
        }
    )
    bodies = _wait_for_webhooks(helper, "/webhook", 1)
    time.sleep(0.2)
    bodies = [json.loads(b) for _, _, _, b in helper.recorded.of("/webhook")]
    assert len(bodies) == 1
    assert bodies[0]["status"] == "succeeded"


def test_completed_webhook_is_retried_on_5xx(server: ServerFactory, helper: HelperServer) -> None:
    srv = server("echo.py:Runner", webhook_backoff=0.05)
    helper.recorded.fail_first = 2
    srv.predict(
        {"input": {}, "webhook": helper.url + "/webhook", "webhook_events_filter": ["completed"]}
    )
    deadline = time.monotonic() + 30
    while len(helper.recorded.of("/webhook")) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert len(helper.recorded.of("/webhook")) == 3


def test_dead_webhook_receiver_does_not_slow_predictions(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/nobody"
    started = time.monotonic()
    body = srv.predict({"input": {"text": "w"}, "webhook": dead}).json()
    assert body["status"] == "succeeded"
    assert time.monotonic() - started < 2.0


def test_output_webhooks_are_throttled(server: ServerFactory, helper: HelperServer) -> None:
    # Two outputs 0.5 s apart, a 30 s interval: the first output goes out at once, the
    # second only inside the completed webhook.
    srv = server("outputs.py:SlowStreamRunner", throttle_interval=30.0)
    body = srv.predict({"input": {"seconds": 0.5}, "webhook": helper.url + "/webhook"}).json()
    assert body["status"] == "succeeded"
    bodies = _wait_for_webhooks(helper, "/webhook", 2)
    progress = [b["output"] for b in bodies if b["status"] == "processing"]
    assert progress == [["first"]]
    assert bodies[-1]["output"] == ["first", "second"]
