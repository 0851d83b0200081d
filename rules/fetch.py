"""A build's downloads: fetch a pinned file into the cache, verified.

Each URL is tried in turn; bytes stream straight into a cache temp file while being hashed,
and only a file whose sha256 and size match the lock enters the cache (a size of None:
the lock pins only the sha256, as for a python-build-standalone archive). Requests go
through the HTTP seam (cog/_net, ``fetch_policy``), which also reads ``file://`` URLs
(local find-links folders and indexes) from disk.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

import requests

from cog import _net
from cog.errors import FetchError
from cog.progress import NullProgress, Progress, Task

from .cache import Cache

CONNECT_TIMEOUT_S, READ_TIMEOUT_S = _net.FETCH_TIMEOUT
_CHUNK = 1 << 20

_local = threading.local()


def _client() -> _net.Client:
    # requests.Session is not documented as thread-safe: one per fetching thread. Its
    # policy honours the CA bundle pip is configured with (cog/_net/_policy.py).
    client: _net.Client | None = getattr(_local, "client", None)
    if client is None:
        client = _local.client = _net.Client(_net.fetch_policy())
    return client


def _name_of(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1]) or url


def fetch(
    urls: Sequence[str],
    sha256: str,
    size: int | None,
    cache: Cache,
    *,
    progress: Progress | None = None,
) -> Path:
    """Return the cached blob with this sha256, downloading it from the first URL that works."""
    if existing := cache.blob_path(sha256):
        return existing
    name = _name_of(urls[0]) if urls else sha256
    if not urls:
        raise FetchError(
            f"{name}: no source URL for this file",
            "Check that the index or archive that cog.lock was made from is configured.",
        )
    task = (progress or NullProgress()).task(f"fetch {name}", size)
    failures: list[str] = []
    for url in urls:
        try:
            _fetch_one(url, sha256, size, cache, task)
        except (OSError, requests.RequestException) as e:
            failures.append(f"{url}: {e}")
            continue
        except FetchError as e:
            # A digest or size mismatch from one mirror: another may hold the right file.
            failures.append(e.message)
            continue
        task.finish()
        path = cache.blob_path(sha256)
        assert path is not None
        return path
    if len(failures) == 1 and "sha256" in failures[0]:
        raise FetchError(
            failures[0],
            "The file at its source is not the one cog.lock pins; "
            "run `cog lock --upgrade` if the new file is intended.",
        )
    raise FetchError(
        f"could not fetch {name}:\n  " + "\n  ".join(failures),
        "Check the index/mirror configuration (pip.conf, uv.toml, apt sources) and the network.",
    )


def _fetch_one(url: str, sha256: str, size: int | None, cache: Cache, task: Task) -> None:
    name = _name_of(url)
    scheme = urllib.parse.urlsplit(url).scheme
    with cache.writer(sha256, what=name) as w:
        if scheme not in ("file", "http", "https"):
            raise FetchError(f"{name}: unsupported URL scheme in {url}")
        # file:// too: the client reads the file (a missing one raises FileNotFoundError).
        with _client().get(url, stream=True) as r:
            r.raise_for_status()
            for chunk in r.iter_content(_CHUNK):
                w.write(chunk)
                task.advance(len(chunk))
        if size is not None and w.size != size:
            raise FetchError(f"{name}: got {w.size} bytes from {url}, cog.lock says {size}")
