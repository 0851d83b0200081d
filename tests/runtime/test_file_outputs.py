"""File outputs: data URLs, uploads to output_file_prefix / --upload-url, list naming."""

from __future__ import annotations

import base64
import glob
import os
import tempfile
import time

import pytest

from tests.runtime.conftest import HelperServer, ServerFactory

pytestmark = pytest.mark.integration


def test_list_of_files_as_data_urls(shared: ServerFactory) -> None:
    body = shared("outputs.py:FileListRunner").predict({}).json()
    assert body["output"] == [
        "data:text/plain;base64," + base64.b64encode(f"file{i}".encode()).decode() for i in range(2)
    ]


def test_output_file_prefix_uploads_as_multipart_put(
    shared: ServerFactory, helper: HelperServer
) -> None:
    srv = shared("outputs.py:FileRunner")
    body = srv.predict(
        {"input": {"text": "up"}, "output_file_prefix": helper.url + "/upload/"}
    ).json()
    assert body["status"] == "succeeded", body
    assert body["output"] == helper.url + "/upload/result.txt"
    ((method, _, headers, payload),) = helper.recorded.of("/upload/")
    assert method == "PUT"
    assert headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="result.txt"' in payload
    assert b"\r\nup\r\n" in payload


def test_list_uploads_are_named_by_index(shared: ServerFactory, helper: HelperServer) -> None:
    srv = shared("outputs.py:FileListRunner")
    body = srv.predict({"input": {}, "output_file_prefix": helper.url + "/upload"}).json()
    assert body["output"] == [
        helper.url + "/upload/output.0.txt",
        helper.url + "/upload/output.1.txt",
    ]


def test_upload_url_setting_applies_to_async_predictions(
    server: ServerFactory, helper: HelperServer
) -> None:
    srv = server("outputs.py:FileRunner", upload_url=helper.url + "/upload/")
    response = srv.predict(
        {"input": {}, "webhook": helper.url + "/webhook", "webhook_events_filter": ["completed"]},
        headers={"Prefer": "respond-async"},
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 30
    while not helper.recorded.of("/webhook"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert helper.recorded.of("/upload/")[0][1] == "/upload/result.txt"


def test_streamed_files_are_uploaded_as_they_come(
    shared: ServerFactory, helper: HelperServer
) -> None:
    srv = shared("outputs.py:IterFileRunner")
    body = srv.predict({"input": {}, "output_file_prefix": helper.url + "/upload/"}).json()
    assert body["output"] == [f"{helper.url}/upload/output.{i}.txt" for i in range(2)]
    assert [r[1] for r in helper.recorded.of("/upload/")] == [
        "/upload/output.0.txt",
        "/upload/output.1.txt",
    ]


def test_returned_temporary_files_are_deleted_once_sent(shared: ServerFactory) -> None:
    srv = shared("outputs.py:FileRunner")
    before = set(glob.glob(os.path.join(tempfile.gettempdir(), "*", "result.txt")))
    assert srv.predict({"input": {"text": "gone"}}).json()["status"] == "succeeded"
    after = set(glob.glob(os.path.join(tempfile.gettempdir(), "*", "result.txt")))
    assert after <= before
