"""Worker and outbound semantics the reference has (issue 20), over real HTTP and workers."""

from __future__ import annotations

import base64
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from cog._version import __version__
from tests.runtime.conftest import MODELS, HelperServer, ServerFactory

pytestmark = pytest.mark.integration

AGENT = f"cog-worker/{__version__}"
DEADLINE = 30.0


def _recorded(helper: HelperServer, prefix: str) -> list[tuple[str, str, dict[str, str], bytes]]:
    deadline = time.monotonic() + DEADLINE
    while not (found := helper.recorded.of(prefix)):
        assert time.monotonic() < deadline, f"nothing reached {prefix}"
        time.sleep(0.02)
    return found


def test_webhooks_uploads_and_downloads_send_cogs_user_agent(
    shared: ServerFactory, helper: HelperServer
) -> None:
    echo = shared("echo.py:Runner")
    body = {"input": {}, "webhook": helper.url + "/webhook", "webhook_events_filter": ["start"]}
    assert echo.predict(body).status_code == 200
    ((_, _, webhook, _),) = _recorded(helper, "/webhook")
    assert webhook["User-Agent"] == AGENT

    files = shared("outputs.py:FileRunner")
    body = {"input": {"text": "up"}, "output_file_prefix": helper.url + "/upload/"}
    assert files.predict(body).json()["status"] == "succeeded"
    ((_, _, upload, _),) = helper.recorded.of("/upload/")
    assert upload["User-Agent"] == AGENT

    inputs = shared("failing.py:FileInput")
    response = inputs.predict({"input": {"doc": helper.url + "/files/a.txt"}})
    assert response.json()["output"] == "content of /files/a.txt"
    ((_, _, download, _),) = helper.recorded.of("/files/")
    assert download["User-Agent"] == AGENT


def test_url_input_that_404s_fails_the_prediction(
    shared: ServerFactory, helper: HelperServer
) -> None:
    srv = shared("failing.py:FileInput")
    url = helper.url + "/missing.txt"
    response = srv.predict({"input": {"doc": url}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "failed"
    assert url in body["error"]
    assert "404" in body["error"]


def test_a_returned_file_of_the_project_is_not_deleted(
    server: ServerFactory, tmp_path: Path
) -> None:
    # The project under the temp dir, as `cog serve --local` of a project in /tmp has it.
    assert str(tmp_path.resolve()).startswith(str(Path(tempfile.gettempdir()).resolve()))
    shutil.copy(MODELS / "reference_worker.py", tmp_path)
    srv = server("reference_worker.py:ProjectFile", project_dir=tmp_path)
    body = srv.predict({"input": {}}).json()
    assert body["output"] == "data:text/plain;base64," + base64.b64encode(b"mine").decode()
    assert (tmp_path / "kept-output.txt").read_text() == "mine"


def test_model_output_also_reaches_the_servers_own_stdout_and_stderr(
    server: ServerFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    srv = server("reference_worker.py:Chatty")
    body = srv.predict({"input": {"word": "w1"}}).json()
    assert body["status"] == "succeeded", body
    assert "predict-stdout-w1" in body["logs"]  # the prediction keeps its own logs
    assert "predict-raw-stderr-w1" in body["logs"]
    out, err = capfd.readouterr()
    assert "setup-stdout-line\n" in out
    assert "predict-stdout-w1\n" in out
    assert "setup-stderr-line\n" in err
    assert "predict-raw-stderr-w1\n" in err


def test_a_trainers_setup_output_reaches_the_servers_stdout(
    server: ServerFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    srv = server("reference_worker.py:ChattyTrainer", mode="train")
    response = requests.post(srv.url + "/trainings", json={"input": {"steps": 2}}, timeout=60)
    assert response.json()["output"] == 2, response.text
    out, _ = capfd.readouterr()
    assert "trainer-setup-line\n" in out
    assert "training-2\n" in out


@pytest.mark.parametrize("ref", ["reference_worker.py:Exits", "reference_worker.py:AsyncExits"])
def test_sys_exit_in_run_fails_the_prediction_naming_systemexit(
    shared: ServerFactory, ref: str
) -> None:
    srv = shared(ref)
    body = srv.predict({"input": {"code": 1}}).json()
    assert body["status"] == "failed"
    assert body["error"] == "SystemExit: 1"
    assert "SystemExit" in body["logs"]  # the traceback, as for any failure
    assert srv.predict({"input": {"code": 0}}).json()["error"] == "SystemExit: 0"
    again = srv.predict({"input": {"code": -1}}).json()
    assert again["status"] == "succeeded"  # the same worker goes on
    assert again["output"] == "still here"
    assert srv.health()["status"] == "READY"


def _weights_output(server: ServerFactory, ref: str, weights: str) -> Any:
    srv = server(ref, weights=weights)
    return srv.predict({"input": {}}).json()["output"]


def test_cog_weights_as_a_data_url(server: ServerFactory) -> None:
    url = "data:text/plain;base64," + base64.b64encode(b"the weights").decode()
    assert _weights_output(server, "reference_worker.py:WeightsAsPath", url) == (
        "Path:True:the weights"
    )
    assert _weights_output(server, "reference_worker.py:WeightsAsFile", url) == "the weights"


def test_cog_weights_as_an_http_url(server: ServerFactory, helper: HelperServer) -> None:
    url = helper.url + "/files/w.bin"
    output = _weights_output(server, "reference_worker.py:WeightsAsPath", url)
    assert output == "Path:True:content of /files/w.bin"
    ((_, _, headers, _),) = helper.recorded.of("/files/")
    assert headers["User-Agent"] == AGENT


def test_cog_weights_url_that_404s_fails_setup_naming_it(
    server: ServerFactory, helper: HelperServer
) -> None:
    url = helper.url + "/missing.bin"
    srv = server("reference_worker.py:WeightsAsPath", ready=False, weights=url)
    health = srv.wait_for("SETUP_FAILED")
    assert (
        f"cannot download the weights (COG_WEIGHTS) from {url}: HTTP 404"
        in (health["setup"]["logs"])
    )


def test_reference_sdk_names_work_inside_a_worker(shared: ServerFactory) -> None:
    body = shared("reference_worker.py:PredictorModule").predict({"input": {}}).json()
    assert body["status"] == "succeeded", body
    missing, loaded, ref, secret = body["output"].split("|")
    assert missing == f"Could not find {MODELS / 'cog.yaml'}"
    assert loaded == "Exits"
    assert ref == "predict.py:Runner"
    assert secret == "None"
