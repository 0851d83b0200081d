"""An in-memory OCI 1.1 registry with the referrers API, over real HTTP on 127.0.0.1.

The Debian docker-registry (distribution 2.8) predates the referrers API, so the path
where a registry answers ``OCI-Subject`` and indexes referrers itself needs a stand-in:
only the calls the referrers module makes, as the distribution spec words them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

INDEX = "application/vnd.oci.image.index.v1+json"


@dataclass
class Store:
    blobs: dict[str, bytes] = field(default_factory=dict)
    manifests: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # ref → body, type
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def referrers(self, subject: str, artifact_type: str | None) -> list[dict[str, Any]]:
        found = []
        for ref, (body, media) in sorted(self.manifests.items()):
            data = json.loads(body)
            if not ref.startswith("sha256:") or data.get("subject", {}).get("digest") != subject:
                continue
            kind = data.get("artifactType") or data["config"]["mediaType"]
            if artifact_type and kind != artifact_type:
                continue
            entry = {"mediaType": media, "digest": ref, "size": len(body), "artifactType": kind}
            if data.get("annotations"):
                entry["annotations"] = data["annotations"]
            found.append(entry)
        return found


class _Handler(BaseHTTPRequestHandler):
    store: Store

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests read ``store.requests`` instead."""

    def _answer(self, code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _route(self) -> tuple[list[str], dict[str, list[str]]]:
        url = urlsplit(self.path)
        with self.store.lock:
            self.store.requests.append(f"{self.command} {url.path}")
        return url.path.strip("/").split("/"), parse_qs(url.query)

    def do_GET(self) -> None:
        parts, query = self._route()
        if parts == ["v2"]:
            return self._answer(200, b"{}")
        kind, target = parts[-2], parts[-1]
        if kind == "referrers":
            wanted = query.get("artifactType", [None])[0]
            found = self.store.referrers(target, wanted)
            index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": found}
            applied = {"OCI-Filters-Applied": "artifactType"} if wanted else {}
            return self._answer(200, json.dumps(index).encode(), {"Content-Type": INDEX, **applied})
        if kind == "manifests" and target in self.store.manifests:
            body, media = self.store.manifests[target]
            return self._answer(200, body, {"Content-Type": media})
        if kind == "blobs" and target in self.store.blobs:
            return self._answer(200, self.store.blobs[target])
        return self._answer(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

    def do_HEAD(self) -> None:
        parts, _ = self._route()
        self._answer(200 if parts[-1] in self.store.blobs else 404)

    def do_POST(self) -> None:
        parts, _ = self._route()
        self._answer(202, headers={"Location": "/" + "/".join([*parts, "u1"])})

    def do_PUT(self) -> None:
        parts, query = self._route()
        body = self._body()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if parts[-2] == "manifests":
            media = self.headers.get("Content-Type", "")
            with self.store.lock:
                self.store.manifests[digest] = self.store.manifests[parts[-1]] = (body, media)
            subject = json.loads(body).get("subject", {}).get("digest")
            headers = {"Docker-Content-Digest": digest}
            if subject:
                headers["OCI-Subject"] = subject
            return self._answer(201, headers=headers)
        if query.get("digest") != [digest]:
            return self._answer(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
        with self.store.lock:
            self.store.blobs[digest] = body
        return self._answer(201)


@contextmanager
def referrers_registry() -> Iterator[tuple[str, Store]]:
    """(host:port, store) of a running registry; stopped on exit."""
    store = Store()
    handler = type("Handler", (_Handler,), {"store": store})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", store
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
