"""A PEP 503 simple index on 127.0.0.1:0, serving the wheels and sdists a test made.

``/simple/`` lists projects, ``/simple/NAME/`` links each file with its ``#sha256=``, and
``/files/NAME`` serves it; any other file put in the folder is served under ``/files/``.
A subfolder is an index of its own: ``/SUB/NAME/`` (or ``/SUB/simple/NAME/``) lists the
files in SUB, as PyTorch's ``BASE/cpu/torch/`` does.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_JSON = "application/vnd.pypi.simple.v1+json"
_DIST = re.compile(r"^(?P<name>[A-Za-z0-9_.]+?)-\d.*\.(whl|tar\.gz|zip)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class LocalIndex:
    url: str  # http://127.0.0.1:PORT
    folder: Path

    @property
    def simple(self) -> str:
        return f"{self.url}/simple"


def _projects(folder: Path) -> dict[str, list[Path]]:
    projects: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        match = _DIST.match(path.name)
        if match:
            projects.setdefault(normalize(match["name"]), []).append(path)
    return projects


def _handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p and p != ".."]
            if parts[:1] == ["files"] and folder.joinpath(*parts[1:]).is_file():
                data = folder.joinpath(*parts[1:]).read_bytes()
                self._send(200, data, "application/octet-stream")
                return
            # /simple/ and /simple/NAME/ list the root; /SUB/[simple/]NAME/ the folder SUB.
            sub = [p for p in parts[:-1] if p != "simple"]
            where = folder.joinpath(*sub)
            projects = _projects(where) if where.is_dir() else {}
            if parts and parts[-1] == "simple":
                links = "".join(f'<a href="{n}/">{n}</a>\n' for n in projects)
                self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
            elif parts and normalize(parts[-1]) in projects:
                prefix = "/".join(["files", *sub])
                if _JSON in self.headers.get("Accept", ""):  # PEP 691: hashes and sizes
                    body = {
                        "meta": {"api-version": "1.1"},
                        "name": normalize(parts[-1]),
                        "files": [
                            {
                                "filename": p.name,
                                "url": f"/{prefix}/{p.name}",
                                "hashes": {"sha256": hashlib.sha256(p.read_bytes()).hexdigest()},
                                "size": p.stat().st_size,
                            }
                            for p in projects[normalize(parts[-1])]
                        ],
                    }
                    self._send(200, json.dumps(body).encode(), _JSON)
                    return
                links = "".join(
                    f'<a href="/{prefix}/{html.escape(p.name)}#sha256='
                    f'{hashlib.sha256(p.read_bytes()).hexdigest()}">{html.escape(p.name)}</a>\n'
                    for p in projects[normalize(parts[-1])]
                )
                self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
            else:
                self._send(404, b"not found", "text/plain")

    return Handler


@contextlib.contextmanager
def serving_index(folder: Path) -> Iterator[LocalIndex]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LocalIndex(f"http://127.0.0.1:{server.server_address[1]}", folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
