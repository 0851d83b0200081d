"""A small HTTP proxy on 127.0.0.1 in front of the real test registry, to make it behave
like registries we cannot run here: one that refuses chunked (PATCH) uploads, and one
that wants bearer tokens from a token service (the distribution token flow).
"""

from __future__ import annotations

import base64
import http.client
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "authorization", "content-length"}
TOKEN = "token-for-tests"


@dataclass
class Seen:
    method: str
    path: str
    status: int
    body_length: int
    content_range: str | None


@dataclass
class ProxyState:
    upstream_port: int
    refuse_patch: bool = False
    bearer_user: tuple[str, str] | None = None
    chunk_min_length: int | None = None  # advertised as OCI-Chunk-Min-Length
    seen: list[Seen] = field(default_factory=list)
    token_queries: list[dict[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output quiet

    def _reply(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _record(self, status: int, body: bytes) -> None:
        with self.server.state.lock:
            self.server.state.seen.append(
                Seen(self.command, self.path, status, len(body), self.headers.get("Content-Range"))
            )

    def _token(self) -> None:
        state = self.server.state
        assert state.bearer_user is not None
        user, password = state.bearer_user
        expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        with state.lock:
            state.token_queries.append(parse_qs(urlsplit(self.path).query))
        if self.headers.get("Authorization") != expected:
            self._reply(401, {"Content-Type": "application/json"}, b'{"details":"bad login"}')
            return
        self._reply(
            200, {"Content-Type": "application/json"}, json.dumps({"token": TOKEN}).encode()
        )

    def _challenge(self) -> None:
        parts = urlsplit(self.path).path.split("/")
        scope = ""
        for marker in ("blobs", "manifests"):
            if marker in parts:
                repo = "/".join(parts[2 : parts.index(marker)])
                scope = f',scope="repository:{repo}:pull,push"'
        realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self._reply(
            401,
            {"WWW-Authenticate": f'Bearer realm="{realm}",service="tests"{scope}'},
            b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
        )

    def _handle(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/token"):
            self._token()
            return
        if state.bearer_user and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._record(401, body)
            self._challenge()
            return
        if state.refuse_patch and self.command == "PATCH":
            self._record(405, body)
            self._reply(405, {"Content-Type": "application/json"}, b'{"errors":[]}')
            return
        upstream = http.client.HTTPConnection("127.0.0.1", state.upstream_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        headers["Content-Length"] = str(len(body))
        upstream.request(self.command, self.path, body=body, headers=headers)
        resp = upstream.getresponse()
        payload = resp.read()
        upstream.close()
        self._record(resp.status, body)
        out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP}
        if state.chunk_min_length and self.command == "POST" and resp.status == 202:
            out["OCI-Chunk-Min-Length"] = str(state.chunk_min_length)
        self._reply(resp.status, out, payload)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: ProxyState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


class Proxy:
    def __init__(self, state: ProxyState) -> None:
        self.state = state
        self._server = _Server(state)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
