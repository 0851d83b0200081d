"""Server semantics of the reference (issue 20, H2a's items), over real HTTP: the model's
healthcheck() on /health-check, @concurrent(max=N), SSE with no replay history, a missing
entry point file, prediction ids and the version object."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cog.errors import ConfigError
from cog.runtime import Settings
from tests.runtime.conftest import DEADLINE, SSE, Server, ServerFactory, sse_events

pytestmark = pytest.mark.integration

ASYNC = {"Prefer": "respond-async"}


def _first_after_starting(srv: Server) -> dict[str, Any]:
    """The first /health-check answer that is not STARTING."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        body = srv.health()
        if body["status"] != "STARTING":
            return body
        time.sleep(0.02)
    raise AssertionError("still STARTING")


def test_healthcheck_false_is_unhealthy_from_the_first_answer(server: ServerFactory) -> None:
    srv = server("semantics.py:UnhealthyFromTheStart", ready=False)
    body = _first_after_starting(srv)
    assert body["status"] == "UNHEALTHY"
    expected = "Healthcheck failed: user-defined healthcheck returned False"
    assert body["user_healthcheck_error"] == expected


def test_healthcheck_that_times_out_is_unhealthy(server: ServerFactory) -> None:
    srv = server("semantics.py:SlowHealthcheck", ready=False)
    body = _first_after_starting(srv)
    assert body["status"] == "UNHEALTHY"
    expected = "Healthcheck failed: user-defined healthcheck timed out after 5.0 seconds"
    assert body["user_healthcheck_error"] == expected


def test_a_late_healthcheck_answer_is_not_taken_for_the_next_one(server: ServerFactory) -> None:
    srv = server("semantics.py:LateHealthcheck", ready=False)
    assert "timed out" in _first_after_starting(srv)["user_healthcheck_error"]
    # Asked again at once: the first call's True arrives meanwhile, but this answer is
    # the second call's.
    body = srv.health()
    assert body["status"] == "UNHEALTHY"
    assert body["user_healthcheck_error"].endswith("returned False")


def test_health_follows_the_model_from_one_run_to_the_next(server: ServerFactory) -> None:
    srv = server("semantics.py:HealthFollowsRuns")
    for sick, status in ((True, "UNHEALTHY"), (False, "READY"), (True, "UNHEALTHY")):
        assert srv.predict({"input": {"sick": sick}}).status_code == 200
        assert srv.health()["status"] == status  # at once: no result kept from before


def _put(srv: Server, prediction_id: str, seconds: float) -> requests.Response:
    return requests.put(
        f"{srv.url}/predictions/{prediction_id}",
        json={"input": {"seconds": seconds}},
        headers=ASYNC,
        timeout=10,
    )


def test_concurrent_max_of_the_run_method_is_honoured(server: ServerFactory) -> None:
    srv = server("semantics.py:ConcurrentFive")  # cog.yaml's concurrency.max: 1
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        started = list(pool.map(lambda i: _put(srv, f"c{i}", 30).status_code, range(5)))
    assert started == [202] * 5
    assert srv.health()["status"] == "BUSY"
    sixth = _put(srv, "c5", 30)
    assert sixth.status_code == 409, sixth.text
    for i in range(5):
        requests.post(f"{srv.url}/predictions/c{i}/cancel", timeout=10)
    srv.wait_for("READY")


def test_cog_max_concurrency_outranks_the_decorator(server: ServerFactory) -> None:
    srv = server("semantics.py:ConcurrentFive", max_concurrency=2, concurrency_from_env=True)
    assert [_put(srv, f"e{i}", 30).status_code for i in range(3)] == [202, 202, 409]
    for i in range(2):
        requests.post(f"{srv.url}/predictions/e{i}/cancel", timeout=10)
    srv.wait_for("READY")


def test_sse_without_history_still_ends_with_completed(server: ServerFactory) -> None:
    srv = server("outputs.py:SlowStreamRunner", stream_history_capacity=0)
    body = {"input": {"seconds": 3.0}}
    started = requests.put(f"{srv.url}/predictions/h0", json=body, headers=ASYNC, timeout=30)
    assert started.status_code == 202, started.text
    srv.wait_for("BUSY")
    joined = requests.put(f"{srv.url}/predictions/h0", json=body, headers=SSE, timeout=30)
    events = sse_events(joined)
    assert "error" not in [name for name, _ in events]
    name, data = events[-1]
    assert name == "completed"
    assert data["status"] == "succeeded"
    assert data["output"] == ["first", "second"]


def test_a_missing_predict_file_is_setup_failed_naming_it(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.12"\npredict: "gone.py:P"\n')
    settings = Settings.from_env_and_args(host="127.0.0.1", port=0, project_dir=tmp_path, env={})
    srv = Server(dataclasses.replace(settings, handle_signals=False)).start()
    try:
        body = srv.wait_for("SETUP_FAILED")
        assert "gone.py" in body["setup"]["logs"]
        assert "does not exist" in body["setup"]["logs"]
        response = srv.predict({"input": {}})
        assert response.status_code == 503
    finally:
        srv.stop()


def test_python_m_cog_runtime_serves_setup_failed_for_a_missing_file(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.12"\nrun: "gone.py:R"\n')
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
        cwd=tmp_path,
        env={**env, "PORT": "0"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        found: re.Match[str] | None = None
        for line in proc.stderr:  # it serves instead of exiting 1
            lines.append(line)
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                break
        assert found, "".join(lines)
        body = requests.get(found.group(1) + "/health-check", timeout=10).json()
        assert body["status"] == "SETUP_FAILED"
        assert "gone.py, which does not exist" in body["setup"]["logs"]
        assert "gone.py" in "".join(lines)  # and the log says so too
    finally:
        proc.kill()
        proc.wait(30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_an_invalid_cog_yaml_still_stops_the_server(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text("build:\n  python_versoin: 3\n")
    with pytest.raises(ConfigError):
        Settings.from_env_and_args(project_dir=tmp_path, env={})


def test_prediction_ids_and_version_have_the_reference_shape(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    ids = [srv.predict({"input": {}}).json()["id"] for _ in range(3)]
    assert all(re.fullmatch(r"pred_[0-9a-f]+", i) for i in ids), ids
    assert len(set(ids)) == 3
    version = srv.health()["version"]
    assert set(version) == {"coglet", "python_sdk", "python"}
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version["python"])
