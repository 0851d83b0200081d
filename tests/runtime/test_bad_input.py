"""Bad requests: each gets a clear 4xx (never 500), and the server keeps serving."""

from __future__ import annotations

import glob
import os
import tempfile

import pytest
import requests

from tests.runtime.conftest import HelperServer, ServerFactory

pytestmark = pytest.mark.integration


def _post_raw(
    url: str, data: bytes, content_type: str | None = "application/json"
) -> requests.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return requests.post(url + "/predictions", data=data, headers=headers, timeout=30)


def _still_serving(url: str) -> None:
    response = requests.post(url + "/predictions", json={"input": {"text": "ok"}}, timeout=30)
    assert response.status_code == 200
    assert response.json()["output"] == "ok"


def _leftovers() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "cog-inputs-*")))


def test_malformed_json_is_422(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = _post_raw(srv.url, b'{"input": ')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"
    _still_serving(srv.url)


def test_body_not_an_object_is_422(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = _post_raw(srv.url, b"[1, 2]")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]


def test_input_not_an_object_is_422(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = _post_raw(srv.url, b'{"input": "text"}')
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "input"]
    _still_serving(srv.url)


def test_missing_required_input_is_the_contract_422(shared: ServerFactory) -> None:
    srv = shared("failing.py:FileInput")
    response = srv.predict({"input": {}})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "loc": ["body", "input", "doc"],
                "msg": "Field required",
                "type": "value_error.missing",
            }
        ]
    }


def test_wrong_type_is_422(shared: ServerFactory) -> None:
    srv = shared("sleepy.py:SleepRunner")
    response = srv.predict({"input": {"seconds": "long"}})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "input", "seconds"]


def test_unknown_input_fields_are_ignored_as_the_reference_does(shared: ServerFactory) -> None:
    # Validation (cog._signature.validate) drops inputs the model does not declare, like
    # the reference; the model never sees them.
    srv = shared("echo.py:Runner")
    response = srv.predict({"input": {"text": "a", "nonsense": 1}})
    assert response.status_code == 200
    assert response.json()["output"] == "a"
    _still_serving(srv.url)


def test_unknown_top_level_fields_are_ignored(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = srv.predict({"input": {"text": "b"}, "extra": {"x": 1}})
    assert response.status_code == 200
    assert response.json()["output"] == "b"


def test_oversized_body_is_413(server: ServerFactory) -> None:
    srv = server("echo.py:Runner", max_body_bytes=1024)
    response = srv.predict({"input": {"text": "x" * 4096}})
    assert response.status_code == 413
    assert "larger than 1024 bytes" in response.json()["detail"]
    _still_serving(srv.url)


def test_wrong_content_type_is_415(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = _post_raw(srv.url, b"input=1", "application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert _post_raw(srv.url, b'{"input": {}}', None).status_code == 200


def test_bad_webhook_events_filter_is_422(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    response = srv.predict({"input": {}, "webhook_events_filter": ["start", "bogus"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "webhook_events_filter"]


def test_unknown_routes_and_methods(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    assert requests.get(srv.url + "/predictions").status_code == 405
    assert requests.post(srv.url + "/predictions/a/b/c/d").status_code == 404
    assert requests.get(srv.url + "/nothing").status_code == 404


def test_url_input_that_404s_fails_the_prediction_and_leaves_no_files(
    shared: ServerFactory, helper: HelperServer
) -> None:
    srv = shared("failing.py:FileInput")
    before = _leftovers()
    response = srv.predict({"input": {"doc": helper.url + "/missing.txt"}})
    assert response.status_code == 200  # a failed prediction, as the reference's
    body = response.json()
    assert body["status"] == "failed"
    assert "HTTP 404" in body["error"]
    assert _leftovers() == before


def test_url_input_that_never_finishes_times_out(
    server: ServerFactory, helper: HelperServer
) -> None:
    srv = server("failing.py:FileInput", download_timeout=0.5)
    response = srv.predict({"input": {"doc": helper.url + "/hang"}})
    assert response.json()["status"] == "failed"
    assert "timed out" in response.json()["error"]


def test_url_input_is_fetched_with_the_user_agent_and_removed(
    server: ServerFactory, helper: HelperServer
) -> None:
    srv = server("failing.py:FileInput", user_agent="my-service/1.0")
    before = _leftovers()
    response = srv.predict({"input": {"doc": helper.url + "/files/a.txt"}})
    assert response.json()["output"] == "content of /files/a.txt"
    ((_, _, headers, _),) = helper.recorded.of("/files/")
    assert headers["User-Agent"] == "my-service/1.0"
    assert _leftovers() == before


def test_data_url_input(shared: ServerFactory) -> None:
    srv = shared("failing.py:FileInput")
    response = srv.predict({"input": {"doc": "data:text/plain;base64,aGVsbG8="}})
    assert response.json()["output"] == "hello"


def test_upload_target_that_refuses_fails_the_prediction(
    shared: ServerFactory, helper: HelperServer
) -> None:
    srv = shared("outputs.py:FileRunner")
    body = srv.predict({"input": {}, "output_file_prefix": helper.url + "/refuse/"}).json()
    assert body["status"] == "failed"
    assert "HTTP 403" in body["error"]
    assert srv.predict({"input": {}}).json()["status"] == "succeeded"
