from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.errors import FetchError
from cog.rules.cache import Cache
from cog.rules.fetch import fetch


@pytest.mark.unit
def test_file_url_is_fetched_and_verified(tmp_path: Path) -> None:
    src = tmp_path / "pkg_1.0.whl"
    src.write_bytes(b"wheel bytes")
    digest = hashlib.sha256(b"wheel bytes").hexdigest()
    cache = Cache(tmp_path / "cache")
    path = fetch([src.as_uri()], digest, 11, cache)
    assert path.read_bytes() == b"wheel bytes"
    src.unlink()
    assert fetch([src.as_uri()], digest, 11, cache) == path  # served from the cache


@pytest.mark.unit
def test_a_wrong_digest_is_an_error_naming_the_file(tmp_path: Path) -> None:
    src = tmp_path / "pkg_1.0.deb"
    src.write_bytes(b"tampered")
    wanted = hashlib.sha256(b"original").hexdigest()
    cache = Cache(tmp_path / "cache")
    with pytest.raises(FetchError) as err:
        fetch([src.as_uri()], wanted, 8, cache)
    message = str(err.value)
    assert "pkg_1.0.deb" in message
    assert wanted in message
    assert hashlib.sha256(b"tampered").hexdigest() in message
    assert cache.blob_path(hashlib.sha256(b"tampered").hexdigest()) is None


@pytest.mark.unit
def test_the_next_url_is_tried_when_one_fails(tmp_path: Path) -> None:
    src = tmp_path / "a.whl"
    src.write_bytes(b"ok")
    missing = (tmp_path / "missing.whl").as_uri()
    path = fetch(
        [missing, src.as_uri()], hashlib.sha256(b"ok").hexdigest(), 2, Cache(tmp_path / "c")
    )
    assert path.read_bytes() == b"ok"


@pytest.fixture
def http_dir(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "served"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.mark.integration
def test_http_fetch_streams_into_the_cache(tmp_path: Path, http_dir: tuple[str, Path]) -> None:
    base, root = http_dir
    payload = bytes(range(256)) * 10000
    (root / "big.whl").write_bytes(payload)
    cache = Cache(tmp_path / "cache")
    digest = hashlib.sha256(payload).hexdigest()
    with pytest.raises(FetchError, match="404"):
        fetch([f"{base}/nothing.whl"], digest, len(payload), cache)
    assert fetch([f"{base}/big.whl"], digest, len(payload), cache).read_bytes() == payload
    with pytest.raises(FetchError, match="bytes"):
        fetch([f"{base}/big.whl"], "f" * 64, len(payload) + 1, cache)


@pytest.mark.integration
def test_a_source_that_answers_503_once_is_tried_again(tmp_path: Path) -> None:
    payload = b"wheel bytes"
    seen: list[str] = []

    class Flaky(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            if len(seen) == 1:
                self.send_error(503)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/pkg.whl"
        digest = hashlib.sha256(payload).hexdigest()
        path = fetch([url], digest, len(payload), Cache(tmp_path / "cache"))
    finally:
        server.shutdown()
        server.server_close()
    assert path.read_bytes() == payload
    assert seen == ["/pkg.whl", "/pkg.whl"]
