"""Cancellation (sync, async, swallowed), worker death, and slots (409 only when busy)."""

from __future__ import annotations

import concurrent.futures
import datetime
import socket
import time

import pytest
import requests

from tests.runtime.conftest import Server, ServerFactory

pytestmark = pytest.mark.integration

ASYNC = {"Prefer": "respond-async"}


def _start(srv: Server, prediction_id: str, seconds: float) -> None:
    response = requests.put(
        f"{srv.url}/predictions/{prediction_id}",
        json={"input": {"seconds": seconds}},
        headers=ASYNC,
        timeout=10,
    )
    assert response.status_code == 202, response.text


def _cancel(srv: Server, prediction_id: str) -> requests.Response:
    return requests.post(f"{srv.url}/predictions/{prediction_id}/cancel", timeout=10)


def test_cancel_interrupts_time_sleep_at_once(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            requests.put,
            srv.url + "/predictions/p1",
            json={"input": {"seconds": 30}},
            timeout=60,
        )
        srv.wait_for("BUSY")
        started = time.monotonic()
        assert _cancel(srv, "p1").status_code == 200
        body = waiting.result().json()
        elapsed = time.monotonic() - started
    assert body["status"] == "canceled"
    assert "canceled, cleaning up" in body["logs"]
    assert elapsed < 2.0  # far below the 30 s sleep; the cancel itself takes milliseconds
    assert srv.predict({"input": {"seconds": 0}}).json()["output"] == "slept"


def test_cancel_of_unknown_id_is_404(shared: ServerFactory) -> None:
    response = _cancel(shared("echo.py:Runner"), "nope")
    assert response.status_code == 404
    assert response.json() == {}


def test_async_model_cancel_raises_cancelled_error(server: ServerFactory) -> None:
    srv = server("sleepy.py:AsyncSleepRunner", max_concurrency=2)
    _start(srv, "a1", 30)
    _start(srv, "a2", 0.2)
    srv.wait_for("BUSY")
    assert _cancel(srv, "a1").status_code == 200
    srv.wait_for("READY")
    assert srv.predict({"input": {"seconds": 0}}).json()["output"] == "slept"


def test_swallowed_cancel_kills_and_replaces_the_worker(server: ServerFactory) -> None:
    srv = server("sleepy.py:SwallowRunner", cancel_grace=0.5)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            requests.put, srv.url + "/predictions/s1", json={"input": {}}, timeout=60
        )
        srv.wait_for("BUSY")
        assert _cancel(srv, "s1").status_code == 200
        body = waiting.result().json()
    assert body["status"] == "canceled"
    srv.wait_for("READY")
    assert srv.predict({"input": {"seconds": 0}}).json()["output"] == "never canceled"


def test_a_worker_that_dies_fails_its_prediction_and_is_replaced(server: ServerFactory) -> None:
    srv = server("sleepy.py:CrashRunner")
    body = srv.predict({"input": {"crash": True}}).json()
    assert body["status"] == "failed"
    assert "exit code 3" in body["error"]
    srv.wait_for("READY")
    killed = srv.predict({"input": {"kill": True}}).json()
    assert "killed by SIGKILL" in killed["error"]
    srv.wait_for("READY")
    assert srv.predict({"input": {"crash": False}}).json()["output"] == "alive"


def test_409_only_when_every_slot_is_busy(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner", max_concurrency=2)
    _start(srv, "b1", 30)
    _start(srv, "b2", 30)
    response = srv.predict({"input": {"seconds": 0}})
    assert response.status_code == 409
    assert response.json() == {
        "error": "At capacity - all prediction slots busy",
        "status": "failed",
    }
    assert srv.health()["status"] == "BUSY"
    _cancel(srv, "b1")
    _cancel(srv, "b2")
    srv.wait_for("READY")


def test_sequential_clients_never_see_409(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    with requests.Session() as session:
        codes = {
            session.post(srv.url + "/predictions", json={"input": {"text": str(i)}}).status_code
            for i in range(200)
        }
    assert codes == {200}


def test_sync_model_with_concurrency_runs_in_parallel_workers(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner", max_concurrency=2)
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda _: srv.predict({"input": {"seconds": 1.0}}).json(), range(2))
        )
    assert [r["output"] for r in results] == ["slept", "slept"]
    assert time.monotonic() - started < 1.9


def test_put_retry_with_the_same_id_joins_the_running_prediction(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    _start(srv, "r1", 1.0)
    retry = requests.put(srv.url + "/predictions/r1", json={"input": {"seconds": 1.0}}, timeout=30)
    assert retry.status_code == 200
    assert retry.json()["id"] == "r1"
    assert retry.json()["status"] == "succeeded"


def test_put_reusing_a_running_id_with_other_input_is_422(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    _start(srv, "r2", 30)
    response = requests.put(srv.url + "/predictions/r2", json={"input": {"seconds": 1}})
    assert response.status_code == 422
    assert "already running" in response.json()["detail"][0]["msg"]
    _cancel(srv, "r2")


def test_concurrent_async_predictions_keep_their_own_logs(server: ServerFactory) -> None:
    srv = server("sleepy.py:AsyncPrintRunner", max_concurrency=2)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        bodies = list(
            pool.map(lambda tag: srv.predict({"input": {"tag": tag}}).json(), ["red", "blue"])
        )
    for body, tag in zip(bodies, ["red", "blue"], strict=True):
        assert body["output"] == tag
        assert body["logs"] == f"{tag} start\n{tag} end\n"


def test_a_dropped_connection_cancels_its_sync_prediction(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    body = b'{"input": {"seconds": 30}}'
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as client:
        client.sendall(
            b"POST /predictions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        srv.wait_for("BUSY")
    started = time.monotonic()
    srv.wait_for("READY")
    assert time.monotonic() - started < 10


def test_a_dropped_put_keeps_running_for_its_retry(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    body = b'{"input": {"seconds": 1.5}}'
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as client:
        client.sendall(
            b"PUT /predictions/keep HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        srv.wait_for("BUSY")
    retried_at = datetime.datetime.now(datetime.UTC)
    retry = requests.put(
        srv.url + "/predictions/keep", json={"input": {"seconds": 1.5}}, timeout=30
    )
    assert retry.json()["status"] == "succeeded"
    assert retry.json()["output"] == "slept"
    # The same prediction, created by the dropped request, not a second run.
    assert datetime.datetime.fromisoformat(retry.json()["created_at"]) < retried_at
