"""The one network seam of locking: GET a URL (http, https or file) with short timeouts.

Unreachable mirrors and indexes must fail within seconds, never hang; the caller turns a
``TransportError`` into an error naming the setting to change.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path

import requests

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0


class TransportError(Exception):
    """A URL could not be read; ``status`` is the HTTP status when there was one."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


def file_url_path(url: str) -> Path:
    parsed = urllib.parse.urlsplit(url)
    return Path(urllib.request.url2pathname(parsed.path))


def get_bytes(url: str, *, headers: dict[str, str] | None = None) -> bytes:
    if url.startswith("file:"):
        path = file_url_path(url)
        try:
            return path.read_bytes()
        except FileNotFoundError as e:
            raise TransportError(url, "no such file", 404) from e
        except OSError as e:
            raise TransportError(url, str(e)) from e
    try:
        response = requests.get(url, headers=headers, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    except requests.RequestException as e:
        raise TransportError(url, f"cannot connect ({type(e).__name__})") from e
    if response.status_code != 200:
        raise TransportError(url, f"HTTP {response.status_code}", response.status_code)
    return response.content


def get_text(url: str, *, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """The body as text and its content type ("" when unknown, e.g. a file URL)."""
    if url.startswith("file:"):
        return get_bytes(url).decode("utf-8"), ""
    try:
        response = requests.get(url, headers=headers, timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    except requests.RequestException as e:
        raise TransportError(url, f"cannot connect ({type(e).__name__})") from e
    if response.status_code != 200:
        raise TransportError(url, f"HTTP {response.status_code}", response.status_code)
    return response.text, response.headers.get("Content-Type", "")
