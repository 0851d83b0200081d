"""Kubernetes: the readiness file, SIGTERM draining, a cheap /health-check, the example.

The models are written into each test's directory: their setup(), run() and healthcheck()
wait on gate files the test creates, so every step is ordered without sleeping.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import requests
import yaml

from cog.runtime import Settings
from cog.runtime._server import CANCEL_MARGIN, _hypercorn_config
from cog.runtime.settings import DEFAULT_READY_FILE
from tests.runtime.conftest import DEADLINE, HelperServer, ServerFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kubernetes" / "deployment.yaml"
CANCEL_GRACE = Settings().cancel_grace

MODEL = '''
import os
import time

from cog import BaseRunner


def wait_for(name: str) -> None:
    while not os.path.exists(name):
        time.sleep(0.01)


class Gated(BaseRunner):
    def setup(self) -> None:
        wait_for("setup.go")

    def run(self, gate: str = "") -> str:
        if gate:
            open(gate + ".running", "w").close()
            wait_for(gate)
        return "finished " + gate


class HangingHealthcheck(BaseRunner):
    def healthcheck(self) -> bool:
        wait_for("health.go")
        return False

    def run(self) -> str:
        return "ok"


class DiesOnce(BaseRunner):
    """Its replacement's setup fails, so the crash in run() leaves the model DEFUNCT."""

    def setup(self) -> None:
        if os.path.exists("was-set-up"):
            raise RuntimeError("cannot set up twice")
        open("was-set-up", "w").close()

    def run(self) -> str:
        os._exit(1)
'''


def _project(tmp_path: Path, *, setup_open: bool = True) -> Path:
    tmp_path.mkdir()
    (tmp_path / "model.py").write_text(MODEL)
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "model.py:Gated"\n')
    if setup_open:
        (tmp_path / "setup.go").touch()
    return tmp_path


def _eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# Settings


@pytest.mark.unit
def test_the_ready_file_is_only_written_under_kubernetes(tmp_path: Path) -> None:
    mine = str(tmp_path / "ready")
    assert Settings.from_env_and_args(project_dir=tmp_path, env={}).ready_file is None
    outside = {"COG_READY_FILE": mine}
    assert Settings.from_env_and_args(project_dir=tmp_path, env=outside).ready_file is None
    k8s = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert Settings.from_env_and_args(project_dir=tmp_path, env=k8s).ready_file == Path(
        "/var/run/cog/ready"
    )
    both = {**k8s, "COG_READY_FILE": mine}
    assert Settings.from_env_and_args(project_dir=tmp_path, env=both).ready_file == Path(mine)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("raw", "expected"), [(None, None), ("30", 30.0), ("0", 0.0), ("-1", None), ("soon", None)]
)
def test_shutdown_grace(tmp_path: Path, raw: str | None, expected: float | None) -> None:
    env = {} if raw is None else {"COG_SHUTDOWN_GRACE": raw}
    assert Settings.from_env_and_args(project_dir=tmp_path, env=env).shutdown_grace == expected


# The readiness file, in-process servers


@pytest.mark.integration
def test_ready_file_appears_after_setup_and_goes_when_the_server_stops(
    server: ServerFactory, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project", setup_open=False)
    ready = tmp_path / "run" / "cog" / "ready"  # its directory does not exist yet
    srv = server("model.py:Gated", ready=False, project_dir=project, ready_file=ready)
    assert srv.health()["status"] == "STARTING"
    assert not ready.exists()
    (project / "setup.go").touch()
    srv.wait_for("READY")
    _eventually(ready.exists, "the ready file")
    srv.stop()
    assert not ready.exists()


@pytest.mark.integration
def test_a_failed_setup_leaves_no_ready_file(server: ServerFactory, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    ready.touch()  # left by a previous run of the container
    srv = server("failing.py:SetupFails", ready=False, ready_file=ready)
    srv.wait_for("SETUP_FAILED")
    assert not ready.exists()


@pytest.mark.integration
def test_a_defunct_model_removes_its_ready_file(server: ServerFactory, tmp_path: Path) -> None:
    project = _project(tmp_path / "project")
    ready = tmp_path / "ready"
    srv = server("model.py:DiesOnce", project_dir=project, ready_file=ready)
    _eventually(ready.exists, "the ready file")
    assert srv.predict({"input": {}}).json()["status"] == "failed"
    srv.wait_for("DEFUNCT")
    _eventually(lambda: not ready.exists(), "the ready file to go")


@pytest.mark.integration
def test_an_unwritable_ready_file_does_not_stop_the_server(
    server: ServerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "not-a-dir").write_text("a file where the directory should be")
    srv = server("echo.py:Runner", ready_file=tmp_path / "not-a-dir" / "ready")
    assert srv.predict({"input": {"text": "hi"}}).status_code == 200
    requests.post(srv.url + "/shutdown", timeout=10)
    assert srv.join(30)
    complaints = [r for r in caplog.records if "readiness file" in r.getMessage()]
    assert len(complaints) == 1, complaints


@pytest.mark.integration
def test_shutdown_removes_the_ready_file_while_predictions_drain(
    server: ServerFactory, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    ready = tmp_path / "ready"
    srv = server("model.py:Gated", project_dir=project, ready_file=ready)
    _eventually(ready.exists, "the ready file")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(srv.predict, {"input": {"gate": "g1"}})
        _eventually((project / "g1.running").exists, "the prediction to start")
        requests.post(srv.url + "/shutdown", timeout=10)
        _eventually(lambda: not ready.exists(), "the ready file to go")
        refused = srv.predict({"input": {}})
        assert refused.status_code == 503
        assert "shutting down" in refused.json()["detail"]
        assert refused.headers["connection"] == "close"
        (project / "g1").touch()
        assert running.result().json()["output"] == "finished g1"
    assert srv.join(30)


@pytest.mark.integration
def test_shutdown_waits_for_the_completed_webhook(
    server: ServerFactory, helper: HelperServer, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    srv = server("model.py:Gated", project_dir=project, webhook_backoff=0.2)
    helper.recorded.fail_first = 2  # the completed event is delivered on its third try
    body = {
        "input": {"gate": "g2"},
        "webhook": helper.url + "/webhook",
        "webhook_events_filter": ["completed"],
    }
    started = srv.predict(body, headers={"Prefer": "respond-async"})
    assert started.status_code == 202
    _eventually((project / "g2.running").exists, "the prediction to start")
    requests.post(srv.url + "/shutdown", timeout=10)
    (project / "g2").touch()
    assert srv.join(30)
    posts = helper.recorded.of("/webhook")
    assert len(posts) == 3
    assert json.loads(posts[-1][3])["status"] == "succeeded"


# /health-check


@pytest.mark.integration
def test_health_check_waits_for_the_model_healthcheck_at_most_its_timeout(
    server: ServerFactory, tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    srv = server("model.py:HangingHealthcheck", ready=False, project_dir=project)
    # healthcheck() hangs until health.go exists: as the reference, the answer waits for
    # it up to its 5 s timeout (the manifest's livenessProbe allows 10 s), then says so.
    deadline = time.monotonic() + DEADLINE
    while True:
        assert time.monotonic() < deadline
        body = requests.get(srv.url + "/health-check", timeout=9).json()
        if body["status"] != "STARTING":
            break
    assert body["status"] == "UNHEALTHY"
    assert "timed out after 5.0 seconds" in body["user_healthcheck_error"]
    (project / "health.go").touch()
    error = srv.wait_for("UNHEALTHY")["user_healthcheck_error"]
    deadline = time.monotonic() + DEADLINE
    while "returned False" not in error:
        assert time.monotonic() < deadline, error
        error = srv.wait_for("UNHEALTHY")["user_healthcheck_error"]


# SIGTERM, `python -m cog.runtime` as the image runs it


class Runtime:
    """``python -m cog.runtime`` in ``project``; stderr is collected in the background."""

    def __init__(self, project: Path, env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
            cwd=project,
            env={**base, "PORT": "0", **env},
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        assert self._listening.wait(DEADLINE), "the server never said where it listens"
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", "".join(self.lines))
        assert found is not None
        self.url = found.group(1)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            if "Running on http://" in line:
                self._listening.set()
        self._listening.set()

    def status(self) -> str:
        body: dict[str, Any] = requests.get(self.url + "/health-check", timeout=10).json()
        return str(body["status"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._reader.join(30)
        assert self.proc.stderr is not None
        self.proc.stderr.close()


@pytest.fixture
def runtime() -> Iterator[Callable[[Path, dict[str, str]], Runtime]]:
    started: list[Runtime] = []

    def start(project: Path, env: dict[str, str]) -> Runtime:
        started.append(Runtime(project, env))
        return started[-1]

    yield start
    for instance in started:
        instance.close()


@pytest.mark.integration
def test_sigterm_refuses_new_predictions_and_finishes_the_running_one(
    runtime: Callable[[Path, dict[str, str]], Runtime], tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    ready = tmp_path / "run" / "ready"
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "COG_READY_FILE": str(ready)}
    proc = runtime(project, {**env, "COG_SHUTDOWN_GRACE": "120"})
    _eventually(lambda: proc.status() == "READY", "READY")
    _eventually(ready.exists, "the ready file")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            requests.post, proc.url + "/predictions", json={"input": {"gate": "g"}}, timeout=60
        )
        _eventually((project / "g.running").exists, "the prediction to start")
        proc.proc.send_signal(signal.SIGTERM)
        _eventually(lambda: not ready.exists(), "the ready file to go")
        refused = requests.post(proc.url + "/predictions", json={"input": {}}, timeout=10)
        assert refused.status_code == 503
        assert "shutting down" in refused.json()["detail"]
        assert proc.proc.poll() is None  # still draining
        (project / "g").touch()
        finished = running.result()
    assert finished.status_code == 200
    assert finished.json()["status"] == "succeeded"
    assert finished.json()["output"] == "finished g"
    assert proc.proc.wait(30) == 0


@pytest.mark.integration
def test_sigterm_cancels_what_outlives_the_grace_period(
    runtime: Callable[[Path, dict[str, str]], Runtime], tmp_path: Path
) -> None:
    project = _project(tmp_path / "project")
    ready = tmp_path / "ready"
    # No KUBERNETES_SERVICE_HOST: the file is not written, whatever COG_READY_FILE says.
    proc = runtime(project, {"COG_READY_FILE": str(ready), "COG_SHUTDOWN_GRACE": "0.5"})
    _eventually(lambda: proc.status() == "READY", "READY")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            requests.post, proc.url + "/predictions", json={"input": {"gate": "never"}}, timeout=60
        )
        _eventually((project / "never.running").exists, "the prediction to start")
        proc.proc.send_signal(signal.SIGTERM)
        answer = running.result()
    assert answer.status_code == 200
    assert answer.json()["status"] == "canceled"
    assert proc.proc.wait(30) == 0
    assert not ready.exists()
    assert any("COG_SHUTDOWN_GRACE=0.5s passed" in line for line in proc.lines), proc.lines


# The example manifest


def _example() -> dict[str, dict[str, Any]]:
    docs = list(yaml.safe_load_all(EXAMPLE.read_text()))
    return {doc["kind"]: doc for doc in docs}


@pytest.mark.unit
@pytest.mark.parametrize("version", ["1.30", kubernetes_validate.latest_version()])
def test_the_example_is_valid_for_the_kubernetes_api(version: str) -> None:
    docs = _example()
    assert set(docs) == {"Deployment", "Service"}
    for doc in docs.values():
        # strict: an unknown or misspelt field is an error, not silently dropped
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.unit
def test_strict_validation_catches_a_misspelt_field() -> None:
    deployment = _example()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(deployment, "1.30", strict=True)


@pytest.mark.unit
def test_the_example_matches_the_runtime() -> None:
    docs = _example()
    pod = docs["Deployment"]["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    assert [p["containerPort"] for p in container["ports"]] == [5000]
    readiness = container["readinessProbe"]["exec"]["command"]
    assert readiness == ["test", "-f", str(DEFAULT_READY_FILE)]
    mounts = [m["mountPath"] for m in container["volumeMounts"]]
    assert str(DEFAULT_READY_FILE.parent) in mounts
    liveness = container["livenessProbe"]["httpGet"]
    assert (liveness["path"], liveness["port"]) == ("/health-check", 5000)
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    # The kubelet's SIGKILL must come after the runtime's drain and cancelation.
    env = {e["name"]: e["value"] for e in container["env"]}
    settings = Settings.from_env_and_args(project_dir=EXAMPLE.parent, env=env)
    assert settings.shutdown_grace is not None
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    http_close = _hypercorn_config(settings).graceful_timeout
    needed = pre_stop + settings.shutdown_grace + CANCEL_GRACE + CANCEL_MARGIN + http_close
    assert pod["spec"]["terminationGracePeriodSeconds"] >= needed
    labels = pod["metadata"]["labels"]
    service = docs["Service"]["spec"]
    assert service["selector"].items() <= labels.items()
    assert docs["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["ports"][0]["targetPort"] == container["ports"][0]["name"]
