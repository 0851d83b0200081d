"""The model's logs on the terminal while a `cog run` prediction is still running.

The runtime captures what predict() prints into the prediction's ``logs`` and sends them
to a webhook at most every COG_THROTTLE_RESPONSE_INTERVAL seconds. The container shares
the host's network, so a webhook receiver on the host's 127.0.0.1 hears them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _LogPrinter:
    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._printed = 0
        self._lock = threading.Lock()

    def update(self, logs: str) -> None:
        """Print what ``logs`` (everything so far) adds to what was printed."""
        with self._lock:
            if len(logs) > self._printed:
                self._write(logs[self._printed :])
                self._printed = len(logs)


@contextmanager
def log_webhook(write: Callable[[str], None]) -> Iterator[tuple[str, Callable[[str], None]]]:
    """A webhook URL on 127.0.0.1 that prints new logs; and ``update`` for the final ones."""
    printer = _LogPrinter(write)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body: Any = json.loads(self.rfile.read(length))
            except ValueError:
                body = {}
            if isinstance(body, dict) and isinstance(body.get("logs"), str):
                printer.update(body["logs"])
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # one line per webhook would bury the model's own output

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, name="cog-log-webhook", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/logs", printer.update
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
