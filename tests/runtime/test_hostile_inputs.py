"""File inputs from hostile servers fail their own prediction, never the server.

Each attack used to stop the whole server (exit 1) or hold a download for ever.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cog.runtime import Settings
from cog.runtime._file_transfer import safe_name
from tests.runtime.conftest import HelperServer, Server, ServerFactory
from tests.runtime.hostile import HostileServer

pytestmark = pytest.mark.integration

GUARD = 30.0  # seconds before a test gives up waiting (the old code waited for ever)


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    instance = HostileServer()
    yield instance
    instance.close()


def _still_serves(srv: Server, helper: HelperServer) -> None:
    response = srv.predict({"input": {"doc": helper.url + "/files/after.txt"}})
    assert response.status_code == 200, response.text
    assert response.json()["output"] == "content of /files/after.txt"


def _until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _completed_webhook(helper: HelperServer) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    def completed() -> bool:
        bodies = [json.loads(body) for _, _, _, body in helper.recorded.of("/webhook")]
        found[:] = [b for b in bodies if b["status"] in ("succeeded", "failed", "canceled")]
        return bool(found)

    _until(completed, "no completed webhook")
    return found[0]


@pytest.mark.parametrize(
    "name",
    [
        "a%00b.txt",  # NUL: open() raised ValueError
        urllib.parse.quote("é" * 200 + ".txt"),  # 400 bytes of UTF-8: ENAMETOOLONG
        "x" * 300,
        "%2e%2e",  # ".." after unquoting
        "a%2Fb%5Cc",
        "%0A%0D%1B",
    ],
    ids=["nul", "400-byte-utf8", "300-ascii", "dotdot", "separators", "controls"],
)
def test_hostile_file_names_are_sanitized(
    shared: ServerFactory, helper: HelperServer, name: str
) -> None:
    srv = shared("failing.py:FileInput")
    response = srv.predict({"input": {"doc": f"{helper.url}/files/{name}"}})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "succeeded"
    _still_serves(srv, helper)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/files/a%00b.txt", "a_b.txt"),
        ("/files/..", "doc"),
        ("/files/%2e%2e", "doc"),
        ("/", "doc"),
        ("/a%2Fb", "a_b"),
        ("/" + "é" * 200 + ".png", "é" * 98 + ".png"),  # cut at a character, 200 bytes
        ("/" + "x" * 250 + "." + "y" * 40, "x" * 200),  # an "extension" that long is not one
        ("/%ff%fe.bin", "\ufffd\ufffd.bin"),
    ],
)
def test_safe_name(path: str, expected: str) -> None:
    name = safe_name(path, "doc")
    assert name == expected
    assert len(name.encode()) <= 200


def test_trickling_server_hits_the_whole_download_deadline(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer
) -> None:
    srv = server("failing.py:FileInput", download_timeout=1.0)
    response = srv.predict({"input": {"doc": hostile.url + "/trickle"}})
    assert response.json()["status"] == "failed", response.text
    assert "timed out" in response.json()["error"]
    _until(hostile.hung_up.is_set, "the trickling download was not stopped")
    _still_serves(srv, helper)


def test_trickling_headers_hit_the_deadline_too(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer
) -> None:
    srv = server("failing.py:FileInput", download_timeout=1.0)
    response = srv.predict({"input": {"doc": hostile.url + "/trickle-head"}})
    assert response.json()["status"] == "failed", response.text
    assert "timed out" in response.json()["error"]
    _still_serves(srv, helper)


@pytest.mark.parametrize("path", ["/sized/5000", "/unsized/5000", "/endless"])
def test_file_input_over_the_size_limit_fails_its_prediction(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer, path: str
) -> None:
    srv = server("failing.py:FileInput", max_input_file_bytes=4096)
    response = srv.predict({"input": {"doc": hostile.url + path}})
    assert response.json()["status"] == "failed", response.text
    assert "larger than the input file limit of 4096 bytes" in response.json()["error"]
    assert srv.predict({"input": {"doc": hostile.url + "/sized/4096"}}).status_code == 200
    _still_serves(srv, helper)


def test_async_download_failure_is_that_prediction_failed(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer
) -> None:
    srv = server("failing.py:FileInput", max_input_file_bytes=4096)
    accepted = srv.predict(
        {"input": {"doc": hostile.url + "/endless"}, "webhook": helper.url + "/webhook"},
        headers={"Prefer": "respond-async"},
    )
    assert accepted.status_code == 202
    completed = _completed_webhook(helper)
    assert completed["status"] == "failed"
    assert "larger than the input file limit" in completed["error"]
    _still_serves(srv, helper)


def test_cancel_stops_a_download_at_once(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer
) -> None:
    srv = server("failing.py:FileInput", download_timeout=600.0)
    accepted = requests.put(
        srv.url + "/predictions/dl1",
        json={"input": {"doc": hostile.url + "/trickle"}, "webhook": helper.url + "/webhook"},
        headers={"Prefer": "respond-async"},
        timeout=30,
    )
    assert accepted.status_code == 202
    _until(lambda: hostile.open == 1, "the download did not start")
    assert requests.post(srv.url + "/predictions/dl1/cancel", timeout=30).status_code == 200
    assert _completed_webhook(helper)["status"] == "canceled"
    _until(hostile.hung_up.is_set, "the canceled download went on")
    _still_serves(srv, helper)


def _tmpfs_temp_dir(monkeypatch: pytest.MonkeyPatch, options: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as parent:
        mount = Path(parent)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        monkeypatch.setattr(tempfile, "tempdir", str(mount))
        try:
            yield mount
        finally:
            monkeypatch.undo()
            subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def full_temp_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 1 MiB tmpfs as the temp dir (we run as root; skipped where mount is refused)."""
    yield from _tmpfs_temp_dir(monkeypatch, "size=1m")


@pytest.fixture
def temp_dir_without_inodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temp dir where not even a folder can be made (its one inode is its root)."""
    yield from _tmpfs_temp_dir(monkeypatch, "size=1m,nr_inodes=1")


def test_endless_download_into_a_full_temp_dir_fails_only_its_prediction(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer, full_temp_dir: Path
) -> None:
    srv = server("failing.py:FileInput")
    response = srv.predict({"input": {"doc": hostile.url + "/endless"}})
    assert response.json()["status"] == "failed", response.text
    assert "No space left on device" in response.json()["error"]
    assert list(full_temp_dir.iterdir()) == []  # the partial file is gone
    _still_serves(srv, helper)


def test_a_temp_dir_too_full_for_the_inputs_folder_fails_only_its_prediction(
    server: ServerFactory, helper: HelperServer, temp_dir_without_inodes: Path
) -> None:
    srv = server("failing.py:FileInput")
    accepted = srv.predict(
        {"input": {"doc": helper.url + "/files/a.txt"}, "webhook": helper.url + "/webhook"},
        headers={"Prefer": "respond-async"},
    )
    assert accepted.status_code == 202, accepted.text
    done = _completed_webhook(helper)
    assert done["status"] == "failed"
    assert done["error"] == "cannot make a folder for the input files: No space left on device"
    health = requests.get(srv.url + "/health-check", timeout=30).json()
    assert health["status"] == "READY"  # the server goes on (it cannot fetch files here)


def test_shutdown_completes_while_a_download_trickles(
    server: ServerFactory, hostile: HostileServer
) -> None:
    srv = server("failing.py:FileInput", download_timeout=600.0, shutdown_grace=1.0)
    accepted = srv.predict(
        {"input": {"doc": hostile.url + "/trickle"}}, headers={"Prefer": "respond-async"}
    )
    assert accepted.status_code == 202
    _until(lambda: hostile.open == 1, "the download did not start")
    assert requests.post(srv.url + "/shutdown", timeout=30).status_code == 200
    # grace 1 s + cancel_grace 2 s + margins: GUARD is only there so that a hang fails.
    assert srv.join(GUARD), "the server did not shut down while a download trickled"


def test_trickling_upload_target_fails_its_prediction(
    server: ServerFactory, helper: HelperServer, hostile: HostileServer
) -> None:
    srv = server("outputs.py:FileRunner", upload_timeout=1.0)
    response = srv.predict(
        {"input": {}, "output_file_prefix": hostile.url + "/trickle-head/?sig=SECRET-SIG"}
    )
    body = response.json()
    assert body["status"] == "failed", body
    assert "not done within 1s" in body["error"]
    assert "SECRET-SIG" not in body["error"]
    _until(hostile.hung_up.is_set, "the upload's connection stayed open")
    assert srv.predict({"input": {}}).json()["status"] == "succeeded"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("env", "size", "timeout"),
    [
        ({}, 8 << 30, 60.0),
        ({"COG_MAX_INPUT_FILE_BYTES": "1024", "COG_DOWNLOAD_TIMEOUT": "2.5"}, 1024, 2.5),
        ({"COG_MAX_INPUT_FILE_BYTES": "0", "COG_DOWNLOAD_TIMEOUT": "0"}, 8 << 30, 60.0),
        ({"COG_MAX_INPUT_FILE_BYTES": "lots", "COG_DOWNLOAD_TIMEOUT": "inf"}, 8 << 30, 60.0),
    ],
)
def test_download_limit_settings(
    tmp_path: Path, env: dict[str, str], size: int, timeout: float
) -> None:
    settings = Settings.from_env_and_args(project_dir=tmp_path, env=env)
    assert settings.max_input_file_bytes == size
    assert settings.download_timeout == timeout
