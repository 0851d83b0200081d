"""A PEP 503 simple index on 127.0.0.1:0, serving the wheels and sdists a test made.

``/simple/`` lists projects, ``/simple/NAME/`` links each file with its ``#sha256=``, and
``/files/NAME`` serves it; any other file put in the folder is served under ``/files/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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
            self.wfile.write(body)

        def do_GET(self) -> None:
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
            projects = _projects(folder)
            if parts == ["simple"]:
                links = "".join(f'<a href="{n}/">{n}</a>\n' for n in projects)
                self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
            elif len(parts) == 2 and parts[0] == "simple" and normalize(parts[1]) in projects:
                links = "".join(
                    f'<a href="/files/{html.escape(p.name)}#sha256='
                    f'{hashlib.sha256(p.read_bytes()).hexdigest()}">{html.escape(p.name)}</a>\n'
                    for p in projects[normalize(parts[1])]
                )
                self._send(200, f"<html><body>{links}</body></html>".encode(), "text/html")
            elif len(parts) == 2 and parts[0] == "files" and (folder / parts[1]).is_file():
                self._send(200, (folder / parts[1]).read_bytes(), "application/octet-stream")
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
