"""Real servers for the runtime's black-box tests: serve() in a thread, on 127.0.0.1:0."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trio

from cog.runtime import Settings, serve

MODELS = Path(__file__).resolve().parent.parent / "fixtures" / "runtime" / "models"
DEADLINE = 60.0
SSE = {"Accept": "text/event-stream"}


def sse_events(response: requests.Response) -> list[tuple[str, Any]]:
    """An SSE response's events as (event, decoded data), in order."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        if block.strip():
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            events.append((lines["event"], json.loads(lines["data"])))
    return events


class Server:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = 0
        self._token: trio.lowlevel.TrioToken | None = None
        self._stop: trio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        async def serve_until_it_returns(*, task_status: trio.TaskStatus[int]) -> None:
            await serve(self.settings, task_status=task_status)
            assert self._stop is not None
            self._stop.set()

        async def main() -> None:
            self._token = trio.lowlevel.current_trio_token()
            self._stop = trio.Event()
            async with trio.open_nursery() as nursery:
                self.port = await nursery.start(serve_until_it_returns)
                self._started.set()
                await self._stop.wait()
                nursery.cancel_scope.cancel()

        try:
            trio.run(main)
        except BaseException as exc:  # reported by start()/stop()
            self._error = exc
        finally:
            self._started.set()

    def start(self) -> Server:
        self._thread.start()
        self._started.wait(DEADLINE)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._token is not None and self._stop is not None and self._thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):
                trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(DEADLINE)

    def join(self, timeout: float) -> bool:
        """Wait for the server to exit by itself; True when it did."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def health(self) -> dict[str, Any]:
        response = requests.get(self.url + "/health-check", timeout=10)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    def wait_for(self, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE
        while True:
            body = self.health()
            if body["status"] in statuses:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"health stayed {body['status']}, wanted {statuses}: {body}")
            time.sleep(0.02)

    def predict(self, body: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return requests.post(
            self.url + "/predictions", json=body if body is not None else {}, timeout=60, **kwargs
        )


def settings_for(ref: str, mode: str = "predict", **overrides: Any) -> Settings:
    base = Settings(
        project_dir=MODELS,
        host="127.0.0.1",
        port=0,
        handle_signals=False,
        cancel_grace=2.0,
    )
    refs: dict[str, Any] = {"predict_ref": ref} if mode == "predict" else {"train_ref": ref}
    return dataclasses.replace(base, **refs, **overrides)


ServerFactory = Callable[..., Server]


@pytest.fixture
def server() -> Iterator[ServerFactory]:
    """A fresh server for one test: ``server("sleepy.py:SleepRunner", max_concurrency=2)``."""
    started: list[Server] = []

    def start(ref: str, *, ready: bool = True, **overrides: Any) -> Server:
        instance = Server(settings_for(ref, **overrides)).start()
        started.append(instance)
        if ready:
            instance.wait_for("READY")
        return instance

    yield start
    for instance in started:
        instance.stop()


@pytest.fixture(scope="session")
def shared() -> Iterator[ServerFactory]:
    """Servers shared by tests that leave them as they found them, one per model."""
    cache: dict[tuple[str, tuple[tuple[str, Any], ...]], Server] = {}

    def get(ref: str, **overrides: Any) -> Server:
        key = (ref, tuple(sorted(overrides.items())))
        if key not in cache:
            cache[key] = Server(settings_for(ref, **overrides)).start()
            cache[key].wait_for("READY")
        return cache[key]

    yield get
    for instance in cache.values():
        instance.stop()


class Recorded:
    """What the helper HTTP server received: (method, path, headers, body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.fail_first = 0  # answer 500 to this many webhook posts first

    def of(self, path_prefix: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        with self.lock:
            return [r for r in self.requests if r[1].startswith(path_prefix)]


class _Handler(http.server.BaseHTTPRequestHandler):
    recorded: Recorded

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _record(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.recorded.lock:
            self.recorded.requests.append(
                (self.command, self.path, dict(self.headers.items()), body)
            )
        return body

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/files/"):
            self._reply(200, b"content of " + self.path.encode())
        elif self.path == "/hang":
            time.sleep(5)
        else:
            self._reply(404, b"not here")

    def do_PUT(self) -> None:
        self._record()
        if self.path.startswith("/upload/"):
            self._reply(201)
        else:
            self._reply(403, b"no uploads here")

    def do_POST(self) -> None:
        self._record()
        if self.path.startswith("/webhook"):
            with self.recorded.lock:
                failing = self.recorded.fail_first > 0
                self.recorded.fail_first -= 1
            self._reply(500 if failing else 200)
        else:
            self._reply(404)


class HelperServer:
    def __init__(self) -> None:
        self.recorded = Recorded()
        handler = type("Handler", (_Handler,), {"recorded": self.recorded})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def helper() -> Iterator[HelperServer]:
    """A plain HTTP server on 127.0.0.1:0 for file inputs, uploads and webhooks."""
    instance = HelperServer()
    yield instance
    instance.close()
