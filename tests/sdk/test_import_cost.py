"""``import cog`` stays cheap: it runs on every worker start and every schema fallback."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from cog import URLFile


def _imported_after_import_cog(module: str) -> bool:
    code = f"import cog, sys; print({module!r} in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return {"True": True, "False": False}[done.stdout.strip()]


@pytest.mark.integration
def test_import_cog_does_not_import_requests() -> None:
    # requests costs 50-180 ms to import; only a URLFile that is actually read needs it.
    assert not _imported_after_import_cog("requests")


@pytest.mark.integration
def test_the_probe_sees_a_module_cog_does_import() -> None:
    # Guards the test above against a probe that can only ever say False.
    assert _imported_after_import_cog("cog._sdk.value_types")


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"hello from " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean; the assertion checks what was served


@pytest.fixture
def server_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.mark.integration
def test_url_file_still_fetches_with_requests_imported_lazily(server_url: str) -> None:
    url_file = URLFile(f"{server_url}/a.txt")
    assert url_file.read() == b"hello from /a.txt"
