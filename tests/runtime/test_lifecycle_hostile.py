"""No orphans and no stuck states: real supervisors, real workers, real signals.

A worker dies with its supervisor whatever it is doing (importing the model, in setup(),
a replacement's setup()); a SIGTERM at any moment of startup stops the worker(s) and
exits 0; a model that crashes now and then is replaced for ever (the budget is a rate), one
that crash-loops ends DEFUNCT; an import or a replacement's setup() that never returns
ends within COG_SETUP_TIMEOUT.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration

LIFECYCLE = Path(__file__).resolve().parent.parent / "fixtures" / "runtime" / "lifecycle"
DEADLINE = 60.0


def _eventually(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has died


class Supervisor:
    """``python -m cog.runtime`` (or the import-holding wrapper) in a copy of the project."""

    def __init__(self, root: Path, env: dict[str, str], *, hold: str | None = None) -> None:
        self.project = root / "project"
        self.marks = root / "marks"
        shutil.copytree(LIFECYCLE, self.project)
        self.marks.mkdir()
        base = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
        env = {**base, "PORT": "0", "LIFECYCLE_DIR": str(self.marks), **env}
        command = [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"]
        if hold is not None:
            wrapper = str(self.project / "delay_import.py")
            command = [sys.executable, wrapper, hold, str(self.marks), "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            command, cwd=self.project, env=env, stderr=subprocess.PIPE, text=True
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)

    def workers(self, stage: str) -> list[int]:
        return sorted(int(p.suffix[1:]) for p in self.marks.glob(f"{stage}.*"))

    def url(self) -> str:
        _eventually(lambda: "Running on http://" in "".join(self.lines), "the server to listen")
        found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", "".join(self.lines))
        assert found is not None
        return found.group(1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self._reader.join(30)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        for pid in self.workers("import"):  # only the workers this test started
            with contextlib.suppress(ProcessLookupError):
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[Callable[..., Supervisor]]:
    started: list[Supervisor] = []

    def start(env: dict[str, str], *, hold: str | None = None) -> Supervisor:
        started.append(Supervisor(tmp_path / str(len(started)), env, hold=hold))
        return started[-1]

    yield start
    for instance in started:
        instance.close()


def _one_worker(sup: Supervisor, stage: str) -> int:
    _eventually(lambda: sup.workers(stage), f"a worker to reach {stage}")
    pids = sup.workers(stage)
    assert len(pids) == 1, pids
    assert _alive(pids[0])
    return pids[0]


# A worker dies with its supervisor


@pytest.mark.parametrize(("hang", "stage"), [("HANG_IMPORT", "import"), ("HANG_SETUP", "setup")])
def test_a_worker_dies_with_a_sigkilled_supervisor(
    supervisor: Callable[..., Supervisor], hang: str, stage: str
) -> None:
    sup = supervisor({hang: "1"})
    worker = _one_worker(sup, stage)
    sup.proc.kill()
    assert sup.proc.wait(30) == -signal.SIGKILL
    _eventually(lambda: not _alive(worker), "the worker to die with its supervisor", 30)


def test_a_replacement_worker_dies_with_a_sigkilled_supervisor(
    supervisor: Callable[..., Supervisor],
) -> None:
    # The replacement is started by the running server (not before trio, as the first is).
    sup = supervisor({"CRASH": "1", "HANG_REPLACEMENT": "1"})
    url = sup.url()
    _eventually(
        lambda: requests.get(url + "/health-check", timeout=10).json()["status"] == "READY",
        "READY",
    )
    crashed = requests.post(url + "/predictions", json={"input": {}}, timeout=60).json()
    assert crashed["status"] == "failed"
    _eventually(lambda: len(sup.workers("setup")) == 2, "the replacement's setup")
    replacement = sup.workers("setup")[-1]
    assert _alive(replacement)
    sup.proc.kill()
    sup.proc.wait(30)
    _eventually(lambda: not _alive(replacement), "the replacement to die with its supervisor", 30)


# SIGTERM from the first moment


@pytest.mark.parametrize(
    "held",
    ["trio", "hypercorn.trio"],
    ids=["before trio runs", "before the HTTP server is up"],
)
def test_sigterm_before_serving_stops_the_worker_and_exits_0(
    supervisor: Callable[..., Supervisor], held: str
) -> None:
    sup = supervisor({"HANG_SETUP": "1"}, hold=held)
    _eventually((sup.marks / "waiting").exists, f"the server to import {held}")
    worker = _one_worker(sup, "setup")
    sup.proc.send_signal(signal.SIGTERM)
    (sup.marks / "release").touch()
    assert sup.proc.wait(30) == 0, "".join(sup.lines)
    _eventually(lambda: not _alive(worker), "the worker to stop", 30)
    assert "Traceback" not in "".join(sup.lines)


def test_sigterm_during_setup_stops_the_worker_and_exits_0(
    supervisor: Callable[..., Supervisor],
) -> None:
    sup = supervisor({"HANG_SETUP": "1"})
    url = sup.url()
    worker = _one_worker(sup, "setup")
    assert requests.get(url + "/health-check", timeout=10).json()["status"] == "STARTING"
    sup.proc.send_signal(signal.SIGTERM)
    assert sup.proc.wait(30) == 0
    _eventually(lambda: not _alive(worker), "the worker to stop", 30)


def test_a_worker_whose_supervisor_is_gone_before_it_starts_exits(tmp_path: Path) -> None:
    # The race PR_SET_PDEATHSIG leaves open: the parent died before the worker asked.
    read_fd, write_fd = os.pipe()
    fds = ["--read-fd", str(read_fd), "--jobs-fd", str(read_fd), "--write-fd", str(write_fd)]
    model = ["--project-dir", str(tmp_path), "--ref", "nope.py:Nope", "--mode", "predict"]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cog.runtime.worker", *fds, *model, "--parent-pid", "1"],
            pass_fds=(read_fd, write_fd),
            timeout=60,
            check=False,
        )
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert result.returncode == 1


def test_the_pipe_watchdog_exits_when_the_supervisor_end_closes() -> None:
    # Where PR_SET_PDEATHSIG does not exist, a thread watches the control pipe.
    read_fd, write_fd = os.pipe()
    code = (
        "import sys, threading, time\n"
        "from cog.runtime.worker._process import watch_control_pipe\n"
        "threading.Thread(target=watch_control_pipe, args=(int(sys.argv[1]),)).start()\n"
        "time.sleep(600)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code, str(read_fd)], pass_fds=(read_fd,))
    os.close(read_fd)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            child.wait(0.5)  # alive while the pipe is open
        os.close(write_fd)
        assert child.wait(30) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# No stuck states


def test_occasional_crashes_never_make_the_model_defunct(server: ServerFactory) -> None:
    # More crashes than the old lifetime limit (20); each long after the previous one, as
    # the replacement budget's window goes.
    srv = server("crashing.py:CrashesEveryRun", max_replacements=1, replacement_window=0.01)
    for _ in range(22):
        body = srv.predict({"input": {}}).json()
        assert body["status"] == "failed"
        assert "worker process" in body["error"]
        srv.wait_for("READY")


def test_a_crash_loop_beyond_the_budget_is_defunct(server: ServerFactory) -> None:
    srv = server("crashing.py:CrashesEveryRun", max_replacements=2, replacement_window=600.0)
    for _ in range(2):
        assert srv.predict({"input": {}}).json()["status"] == "failed"
        srv.wait_for("READY")
    assert srv.predict({"input": {}}).json()["status"] == "failed"
    srv.wait_for("DEFUNCT")
    response = srv.predict({"input": {}})
    assert response.status_code == 503
    assert "defunct" in response.json()["detail"]


def test_an_import_that_never_returns_fails_setup_within_the_timeout(
    server: ServerFactory,
) -> None:
    srv = server("hangs_on_import.py:Runner", ready=False, setup_timeout=1.0)
    body = srv.wait_for("SETUP_FAILED")
    logs = body["setup"]["logs"]
    assert "the model's import did not finish within COG_SETUP_TIMEOUT=1s" in logs
    assert "never finishes importing" in logs
    schema = requests.get(srv.url + "/openapi.json", timeout=30)
    assert schema.status_code == 503
    assert "COG_SETUP_TIMEOUT" in schema.json()["detail"]


def test_a_replacement_whose_setup_hangs_ends_defunct(server: ServerFactory) -> None:
    srv = server("crashing.py:ReplacementHangs", setup_timeout=2.0)
    assert srv.predict({"input": {}}).json()["status"] == "failed"
    srv.wait_for("DEFUNCT")
    response = srv.predict({"input": {}})
    assert response.status_code == 503
