"""The CLI's client of the model server it started: over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cog._container.api_client import RuntimeClient
from cog.errors import RunError

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer(200, {"status": "READY", "setup": {"logs": "loaded\n"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["input"].get("n") == "x":
            detail = [{"loc": ["body", "input", "n"], "msg": "not an integer", "type": "int"}]
            self._answer(422, {"detail": detail})
        else:
            self._answer(200, {"status": "succeeded", "output": body["input"]["n"] * 2})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_proxy_in_the_environment_is_not_used_for_the_local_server(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # requests alone sends 127.0.0.1 to HTTP_PROXY when NO_PROXY does not name it.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = RuntimeClient(server_url)
    health = client.health()
    assert health is not None
    assert (health.status, health.setup_logs) == ("READY", "loaded\n")
    assert client.predict({"input": {"n": 21}})["output"] == 42


def test_a_rejected_input_is_a_run_error_naming_the_field(server_url: str) -> None:
    with pytest.raises(RunError) as caught:
        RuntimeClient(server_url).predict({"input": {"n": "x"}})
    assert "n: not an integer" in str(caught.value)


def test_a_server_not_listening_is_not_ready() -> None:
    assert RuntimeClient("http://127.0.0.1:9").health() is None
