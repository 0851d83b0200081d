"""Transports: what actually moves a request's bytes (requests' adapters).

- ``HTTPTransport``: http and https over urllib3, with an optional send block size and an
  optional hook that sees each new connection's socket (runtime/_outbound.py shuts those
  down at a deadline).
- ``FileTransport``: ``file://`` URLs, read from disk (a missing file raises
  FileNotFoundError, as opening it would).
- ``MockTransport``: for tests, as httpx's: a handler function turns each request into a
  response (or raises requests.ConnectionError to play a broken connection).
"""

from __future__ import annotations

import io
import typing
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict
from urllib3.response import HTTPResponse

if TYPE_CHECKING:
    import socket

_READ_BLOCK = 1 << 20
# Aliases evaluated at import: typing's spellings, for Python 3.8.
SocketHook = typing.Callable[["socket.socket"], None]
AdapterTimeout = typing.Optional[  # noqa: UP045
    typing.Union[float, typing.Tuple[float, float], typing.Tuple[float, None]]  # noqa: UP006, UP007
]


def file_url_path(url: str) -> Path:
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


def response(
    status: int = 200,
    body: bytes | io.BufferedIOBase | Any = b"",
    headers: Mapping[str, str] | None = None,
    *,
    reason: str = "",
) -> requests.Response:
    """A requests Response whose ``raw`` is urllib3's, reading ``body`` (bytes or a file)."""
    fp = io.BytesIO(body) if isinstance(body, bytes) else body
    resp = requests.Response()
    resp.status_code = status
    resp.reason = reason
    resp.headers = CaseInsensitiveDict(dict(headers or {}))
    resp.raw = HTTPResponse(
        body=fp,
        headers=dict(headers or {}),
        status=status,
        preload_content=False,
        decode_content=False,
    )
    resp.encoding = requests.utils.get_encoding_from_headers(resp.headers)
    return resp


def _attach(resp: requests.Response, request: requests.PreparedRequest) -> requests.Response:
    resp.request = request
    resp.url = request.url or ""
    return resp


class FileTransport(requests.adapters.BaseAdapter):
    """GET and HEAD of ``file://`` URLs: 200 with the file's bytes, streamed from disk."""

    def send(  # noqa: PLR0917 (the signature of requests' adapters)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: AdapterTimeout = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        path = file_url_path(request.url or "")
        if request.method not in ("GET", "HEAD"):
            return _attach(response(405, reason="Method Not Allowed"), request)
        handle = path.open("rb")  # OSError (FileNotFoundError...) as opening it raises
        size = str(path.stat().st_size)
        if request.method == "HEAD":
            handle.close()
            resp = response(200, reason="OK")
            resp.headers["Content-Length"] = size
            return _attach(resp, request)
        return _attach(response(200, handle, {"Content-Length": size}, reason="OK"), request)

    def close(self) -> None:
        pass


@dataclass
class Request:
    """A request as a MockTransport's handler sees it: the body read whole, and the
    settings the client sent it with."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: AdapterTimeout
    verify: bool | str
    cert: Any
    proxies: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _read_body(body: object) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    read = getattr(body, "read", None)
    if callable(read):
        out = bytearray()
        while block := read(_READ_BLOCK):
            out += block
        return bytes(out)
    return b"".join(bytes(part) for part in body)  # type: ignore[attr-defined]


class MockTransport(requests.adapters.BaseAdapter):
    """Answers each request with ``handler(request)``; keeps every request it saw."""

    def __init__(self, handler: Callable[[Request], requests.Response]) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[Request] = []

    def send(  # noqa: PLR0917 (the signature of requests' adapters)
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: AdapterTimeout = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        seen = Request(
            request.method or "GET",
            request.url or "",
            dict(request.headers),
            _read_body(request.body),
            timeout,
            verify,
            cert,
            dict(proxies or {}),
        )
        self.requests.append(seen)
        return _attach(self.handler(seen), request)

    def close(self) -> None:
        pass


class HTTPTransport(requests.adapters.HTTPAdapter):
    """requests' own adapter, no urllib3 retries (the client retries, by its policy)."""

    def __init__(
        self,
        *,
        pool_size: int = 10,
        block_size: int | None = None,
        on_socket: SocketHook | None = None,
    ) -> None:
        self._block_size = block_size
        self._pools = _tracked_pools(on_socket) if on_socket is not None else None
        # pool_size: connections kept per host; the number of hosts kept is requests' own.
        super().__init__(pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self._block_size is not None:
            # urllib3's default of 16 KiB costs a Python call per 16 KiB of a large body.
            kwargs["blocksize"] = self._block_size
        super().init_poolmanager(*args, **kwargs)
        if self._pools is not None:
            self.poolmanager.pool_classes_by_scheme = self._pools

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if self._pools is not None and not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = self._pools  # SOCKS brings its own connections
        return manager


@lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: Python 3.9)
def _tracked_pools(on_socket: SocketHook) -> dict[str, Any]:
    """urllib3 pool classes whose new connections hand their socket to ``on_socket``."""
    from urllib3.connection import HTTPConnection, HTTPSConnection  # noqa: PLC0415
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool  # noqa: PLC0415

    class TrackedHTTP(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            on_socket(sock)
            return sock

    class TrackedHTTPS(HTTPSConnection):
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            on_socket(sock)
            return sock

    class HTTPPool(HTTPConnectionPool):
        ConnectionCls = TrackedHTTP

    class HTTPSPool(HTTPSConnectionPool):
        ConnectionCls = TrackedHTTPS

    return {"http": HTTPPool, "https": HTTPSPool}


__all__ = [
    "FileTransport",
    "HTTPTransport",
    "MockTransport",
    "Request",
    "file_url_path",
    "response",
]
