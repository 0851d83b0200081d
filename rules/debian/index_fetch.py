"""Locking's reads of indexes and archives: GET a URL (http, https or file) with short
timeouts, through the seam (cog/_net: ``index_policy``).

Unreachable mirrors and indexes must fail within seconds, never hang; the caller turns a
``TransportError`` into an error naming the setting to change.
"""

from __future__ import annotations

import threading

import requests

from cog import _net
from cog._net import file_url_path

CONNECT_TIMEOUT_S, READ_TIMEOUT_S = _net.INDEX_TIMEOUT

__all__ = ["TransportError", "file_url_path", "get_bytes", "get_text"]

_local = threading.local()


class TransportError(Exception):
    """A URL could not be read; ``status`` is the HTTP status when there was one."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


def _client() -> _net.Client:
    client: _net.Client | None = getattr(_local, "client", None)
    if client is None:
        client = _local.client = _net.Client(_net.index_policy())
    return client


def _get(url: str, headers: dict[str, str] | None) -> requests.Response:
    try:
        response = _client().get(url, headers=headers)
    except FileNotFoundError as e:
        raise TransportError(url, "no such file", 404) from e
    except requests.RequestException as e:  # before OSError, which it derives from
        raise TransportError(url, f"cannot connect ({type(e).__name__})") from e
    except OSError as e:  # a file:// URL that cannot be read
        raise TransportError(url, str(e)) from e
    if response.status_code != 200:
        raise TransportError(url, f"HTTP {response.status_code}", response.status_code)
    return response


def get_bytes(url: str, *, headers: dict[str, str] | None = None) -> bytes:
    return _get(url, headers if not url.startswith("file:") else None).content


def get_text(url: str, *, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """The body as text and its content type ("" when unknown, e.g. a file URL)."""
    if url.startswith("file:"):
        return get_bytes(url).decode("utf-8"), ""
    response = _get(url, headers)
    return response.text, response.headers.get("Content-Type", "")
