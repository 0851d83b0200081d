"""Server semantics the reference has and clients notice (issue 20), over real HTTP."""

from __future__ import annotations

import http.server
import threading
from typing import Any

import pytest
import requests

from tests.runtime.conftest import SSE, ServerFactory, sse_events

pytestmark = pytest.mark.integration

ASYNC = {"Prefer": "respond-async"}


def test_second_cancel_of_a_prediction_is_2xx(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    started = requests.put(
        f"{srv.url}/predictions/c1", json={"input": {"seconds": 30}}, headers=ASYNC, timeout=10
    )
    assert started.status_code == 202, started.text
    srv.wait_for("BUSY")
    cancel_url = f"{srv.url}/predictions/c1/cancel"
    assert requests.post(cancel_url, timeout=10).status_code == 200
    srv.wait_for("READY")  # the prediction has ended: no job left under that id
    again = requests.post(cancel_url, timeout=10)
    assert again.status_code == 200
    assert again.json() == {}
    assert requests.post(f"{srv.url}/predictions/other/cancel", timeout=10).status_code == 404


def test_put_whose_body_id_differs_from_the_url_is_422(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = requests.put(
        f"{srv.url}/predictions/url-id", json={"id": "body-id", "input": {}}, timeout=10
    )
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "id"],
                "msg": "prediction ID must match the ID supplied in the URL",
                "type": "value_error",
            }
        ]
    }
    same = requests.put(
        f"{srv.url}/predictions/same-id", json={"id": "same-id", "input": {}}, timeout=10
    )
    assert same.status_code == 200, same.text
    assert same.json()["id"] == "same-id"


def test_sse_metric_modes_are_named_as_the_reference_names_them(shared: ServerFactory) -> None:
    srv = shared("outputs.py:MetricsRunner")
    response = requests.post(srv.url + "/predictions", json={}, headers=SSE, timeout=30)
    modes = {d["name"]: d["mode"] for n, d in sse_events(response) if n == "metric"}
    assert modes["temperature"] == "replace"
    assert modes["token_count"] == "increment"


def test_sse_replay_truncated_event_says_so_and_how_many(server: ServerFactory) -> None:
    # One event kept: by the time the first stream has seen "first", "start" is dropped.
    srv = server("outputs.py:SlowStreamRunner", stream_history_capacity=1)
    body = {"input": {"seconds": 1.0}}
    with requests.put(
        f"{srv.url}/predictions/t1", json=body, headers=SSE, timeout=30, stream=True
    ) as first:
        assert first.status_code == 200
        for line in first.iter_lines():
            if line == b"event: output":
                break
        again = requests.put(f"{srv.url}/predictions/t1", json=body, headers=SSE, timeout=30)
    events = sse_events(again)
    assert [n for n, _ in events] == ["error"]
    assert events[0][1]["message"] == "SSE stream replay truncated"
    skipped = events[0][1]["skipped"]
    assert isinstance(skipped, int)
    assert skipped >= 1


class _TooManyFirst(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that answers 429 to its first two posts, then 200."""

    statuses: list[int]
    succeeded: threading.Event

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = 429 if len(self.statuses) < 2 else 200
        self.statuses.append(status)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if status == 200:
            self.succeeded.set()


def test_completed_webhook_is_retried_on_429(server: ServerFactory) -> None:
    statuses: list[int] = []
    succeeded = threading.Event()
    handler = type("H", (_TooManyFirst,), {"statuses": statuses, "succeeded": succeeded})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        srv = server("echo.py:Runner", webhook_backoff=0.05)
        webhook = f"http://127.0.0.1:{httpd.server_address[1]}/webhook"
        body = {"input": {}, "webhook": webhook, "webhook_events_filter": ["completed"]}
        assert srv.predict(body).status_code == 200
        assert succeeded.wait(30), statuses
        assert statuses == [429, 429, 200]
    finally:
        httpd.shutdown()
        httpd.server_close()
