"""Setup, health and shutdown, observed through /health-check and the prediction endpoints."""

from __future__ import annotations

import datetime
import time

import pytest
import requests

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration


def test_ready_health_reports_setup_and_versions(shared: ServerFactory) -> None:
    body = shared("echo.py:Runner").health()
    assert body["status"] == "READY"
    setup = body["setup"]
    assert setup["status"] == "succeeded"
    assert setup["logs"] == "setting up echo\n"
    started = datetime.datetime.fromisoformat(setup["started_at"])
    completed = datetime.datetime.fromisoformat(setup["completed_at"])
    assert started.tzinfo is not None
    assert started <= completed
    assert set(body["version"]) >= {"coglet", "python_sdk", "python"}


def test_setup_failure_keeps_the_logs_and_answers_503(server: ServerFactory) -> None:
    srv = server("failing.py:SetupFails", ready=False)
    body = srv.wait_for("SETUP_FAILED")
    assert body["setup"]["status"] == "failed"
    assert "loading weights..." in body["setup"]["logs"]
    assert "weights are corrupt" in body["setup"]["logs"]
    response = srv.predict({"input": {}})
    assert response.status_code == 503
    assert "setup failed" in response.json()["detail"]


def test_import_failure_is_setup_failed_not_starting_forever(server: ServerFactory) -> None:
    srv = server("broken_import.py:Runner", ready=False)
    body = srv.wait_for("SETUP_FAILED")
    assert "importing a broken module" in body["setup"]["logs"]
    assert "torchvision_nonexistent" in body["setup"]["logs"]


def test_predictions_before_setup_finished_get_a_different_503(server: ServerFactory) -> None:
    srv = server("failing.py:SlowSetup", ready=False)
    assert srv.health()["status"] == "STARTING"
    response = srv.predict({"input": {}})
    assert response.status_code == 503
    assert "still starting" in response.json()["detail"]
    # The schema is known as soon as the model imported, before setup() returns.
    deadline = time.monotonic() + 30
    while (schema := requests.get(srv.url + "/openapi.json", timeout=30)).status_code == 503:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert schema.status_code == 200
    assert "/predictions" in schema.json()["paths"]
    assert srv.health()["status"] == "STARTING"


def test_setup_timeout_fails_setup(server: ServerFactory) -> None:
    srv = server("failing.py:SlowSetup", ready=False, setup_timeout=0.5)
    body = srv.wait_for("SETUP_FAILED")
    assert "COG_SETUP_TIMEOUT" in body["setup"]["logs"]
    assert "this takes forever" in body["setup"]["logs"]


def test_user_healthcheck_false_is_unhealthy(server: ServerFactory) -> None:
    srv = server("failing.py:Unhealthy", ready=False)
    body = srv.wait_for("UNHEALTHY")
    assert body["user_healthcheck_error"]


def test_weights_reach_setup_typed_as_it_asks(server: ServerFactory) -> None:
    srv = server("failing.py:WeightsRunner", weights="/models/w.bin")
    assert srv.predict({"input": {}}).json()["output"] == "/models/w.bin"
    srv = server("failing.py:StrWeightsRunner", weights="https://example.invalid/w.tar")
    assert srv.predict({"input": {}}).json()["output"] == "str:https://example.invalid/w.tar"


def test_no_weights_means_none(server: ServerFactory) -> None:
    srv = server("failing.py:StrWeightsRunner")
    assert srv.predict({"input": {}}).json()["output"] == "NoneType:None"


def test_shutdown_endpoint_stops_the_server(server: ServerFactory) -> None:
    srv = server("echo.py:Runner")
    response = requests.post(srv.url + "/shutdown", timeout=10)
    assert response.status_code == 200
    assert srv.join(30)


def test_shutdown_drains_running_predictions(server: ServerFactory) -> None:
    srv = server("sleepy.py:SleepRunner")
    started = srv.predict(
        {"id": "drain", "input": {"seconds": 1.0}}, headers={"Prefer": "respond-async"}
    )
    assert started.status_code == 202
    requests.post(srv.url + "/shutdown", timeout=10)
    refused = srv.predict({"input": {"seconds": 0}})
    assert refused.status_code == 503
    assert "shutting down" in refused.json()["detail"]
    assert srv.join(30)


def test_a_worker_that_cannot_come_back_is_defunct(server: ServerFactory) -> None:
    srv = server("failing.py:SecondSetupFails")
    body = srv.predict({"input": {}}).json()
    assert body["status"] == "failed"
    srv.wait_for("DEFUNCT")
    response = srv.predict({"input": {}})
    assert response.status_code == 503
    assert "defunct" in response.json()["detail"]


def test_request_context_reaches_the_model(shared: ServerFactory) -> None:
    srv = shared("failing.py:ContextRunner")
    assert srv.predict({"input": {}, "context": {"user": "ada"}}).json()["output"] == "ada"
    assert srv.predict({"input": {}, "context": "nope"}).status_code == 422


def test_setup_logs_appear_once_with_several_workers(server: ServerFactory) -> None:
    srv = server("echo.py:Runner", max_concurrency=3)
    assert srv.health()["setup"]["logs"] == "setting up echo\n"


def test_async_healthcheck_runs_on_the_model_loop(server: ServerFactory) -> None:
    # healthcheck() returns False exactly when it runs on the model's own loop.
    srv = server("sleepy.py:AsyncUnhealthy", ready=False)
    error = srv.wait_for("UNHEALTHY")["user_healthcheck_error"]
    assert error == "Healthcheck failed: user-defined healthcheck returned False"
