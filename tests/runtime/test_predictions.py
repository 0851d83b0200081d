"""POST/PUT /predictions over real HTTP: outputs of every kind, timestamps, metrics."""

from __future__ import annotations

import base64
import datetime
import re

import pytest
import requests

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration


def _iso(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


def test_sync_prediction_returns_the_whole_prediction_object(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = srv.predict({"input": {"text": "hello"}})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["output"] == "hello"
    assert body["input"] == {"text": "hello"}
    assert body["error"] is None
    assert body["logs"] == "echo hello\n"
    assert body["metrics"]["predict_time"] > 0
    created, started, completed = (
        _iso(body[k]) for k in ("created_at", "started_at", "completed_at")
    )
    assert created <= started <= completed
    assert re.fullmatch(r"pred_[0-9a-f]+", body["id"])  # the reference's generated ids


def test_defaults_are_filled_and_id_is_kept(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    body = srv.predict({"id": "my-id", "input": {}}).json()
    assert body["id"] == "my-id"
    assert body["output"] == "hi"


def test_put_runs_with_the_path_id(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = requests.put(srv.url + "/predictions/abc123", json={"input": {"text": "x"}})
    assert response.status_code == 200
    assert response.json()["id"] == "abc123"
    assert response.json()["output"] == "x"


def test_respond_async_answers_202_at_once(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = srv.predict(
        {"id": "async1", "input": {"text": "a"}}, headers={"Prefer": "respond-async"}
    )
    assert response.status_code == 202
    assert response.json()["status"] == "starting"
    assert response.json()["id"] == "async1"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("outputs.py:ListRunner", ["item0", "item1", "item2"]),
        ("outputs.py:IterRunner", ["chunk0", "chunk1", "chunk2"]),
        ("outputs.py:PlainIterRunner", ["chunk0", "chunk1", "chunk2"]),
        ("outputs.py:AsyncIterRunner", ["async0", "async1", "async2"]),
    ],
)
def test_list_and_iterator_outputs(server: ServerFactory, ref: str, expected: list[str]) -> None:
    body = server(ref).predict({"input": {}}).json()
    assert body["status"] == "succeeded", body
    assert body["output"] == expected


def test_file_output_is_a_data_url(shared: ServerFactory) -> None:
    body = shared("outputs.py:FileRunner").predict({"input": {"text": "abc"}}).json()
    assert body["output"] == "data:text/plain;base64," + base64.b64encode(b"abc").decode()


def test_basemodel_output_with_a_file_field(shared: ServerFactory) -> None:
    body = shared("outputs.py:ModelRunner").predict({}).json()
    assert body["status"] == "succeeded", body
    output = body["output"]
    assert output["text"] == "hi"
    assert output["score"] == 0.5
    assert output["file"] == "data:text/plain;base64," + base64.b64encode(b"model").decode()


def test_metrics_are_in_the_response(shared: ServerFactory) -> None:
    body = shared("outputs.py:MetricsRunner").predict({}).json()
    metrics = body["metrics"]
    assert metrics["temperature"] == 0.7
    assert metrics["token_count"] == 2
    assert metrics["timing"] == {"inference": 0.25}
    assert metrics["predict_time"] > 0


def test_c_level_writes_are_captured_as_logs(shared: ServerFactory) -> None:
    body = shared("outputs.py:CLevelLogsRunner").predict({}).json()
    assert "raw stdout line\n" in body["logs"]
    assert "raw stderr line\n" in body["logs"]
    assert "python line\n" in body["logs"]


def test_failure_is_reported_and_the_server_keeps_serving(shared: ServerFactory) -> None:
    srv = shared("failing.py:RunFails")
    body = srv.predict({"input": {"text": "zz"}}).json()
    assert body["status"] == "failed"
    assert body["error"] == "bad text: zz"
    assert "about to fail" in body["logs"]
    assert "Traceback" in body["logs"]
    assert srv.predict({"input": {"text": "again"}}).json()["error"] == "bad text: again"


def test_discovery_and_openapi(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    discovery = requests.get(srv.url + "/").json()
    assert discovery["predictions_url"] == "/predictions"
    assert discovery["healthcheck_url"] == "/health-check"
    assert "trainings_url" not in discovery
    doc = requests.get(srv.url + "/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert "/predictions" in doc["paths"]


def test_trainings_use_the_train_entry_point(server: ServerFactory) -> None:
    srv = server("train.py:train", mode="train")
    response = requests.post(srv.url + "/trainings", json={"input": {"text": "t"}})
    assert response.status_code == 200
    assert response.json()["output"] == "t"
    sse = requests.post(
        srv.url + "/trainings", json={"input": {}}, headers={"Accept": "text/event-stream"}
    )
    assert sse.status_code == 406
    assert requests.get(srv.url + "/").json()["trainings_url"] == "/trainings"


def test_legacy_predictor_with_predict(server: ServerFactory) -> None:
    body = server("legacy.py:Predictor").predict({"input": {"text": "x"}}).json()
    assert body["status"] == "succeeded", body
    assert body["output"] == "legacy:x"


def test_child_processes_and_binary_writes_are_logged(shared: ServerFactory) -> None:
    body = shared("outputs.py:SubprocessLogsRunner").predict({}).json()
    assert body["status"] == "succeeded", body
    assert "from a child\n" in body["logs"]
    assert "bytes line\n" in body["logs"]


def test_async_setup_runs_on_the_loop_of_the_predictions(server: ServerFactory) -> None:
    srv = server("sleepy.py:AsyncSetupRunner")
    assert srv.health()["setup"]["logs"] == "async setup\n"
    assert srv.predict({}).json()["output"] is True
