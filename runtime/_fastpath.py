"""The commonest request, ``POST /predictions`` whole in one read, without h11's machinery.

Most of the server's time per prediction went to h11 (about 200 calls per request) and
Hypercorn's stream and task plumbing. A request that is complete in one read, with a plain
Content-Length body and nothing unusual about it, is parsed here and handed to the same
ASGI application, and its response written as h11 would write it (same status line and
header order, Hypercorn's date and server headers). Anything else (another path, chunked
bodies, Expect, Upgrade, a Connection other than keep-alive, an event stream, a malformed
header, bytes after the body) goes through Hypercorn as before: its answers and errors
are unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cog._compat import SLOTS

_REQUEST_LINE = re.compile(rb"POST (/predictions/?) HTTP/1\.1")
# h11's token and field-value rules, strictly: anything looser goes to h11 (and its 400).
_HEADER = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?[ \t]*"
)
_REFUSED = frozenset({b"transfer-encoding", b"expect", b"upgrade", b"te"})


@dataclass(frozen=True, **SLOTS)
class SimpleRequest:
    path: str
    headers: list[tuple[bytes, bytes]]
    body: bytes


def parse(data: bytes) -> SimpleRequest | None:  # noqa: PLR0911 (each return: not simple)
    """The request, when ``data`` is exactly one simple POST /predictions; else None."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0 or not data.startswith(b"POST /predictions"):
        return None
    lines = data[:head_end].split(b"\r\n")
    match = _REQUEST_LINE.fullmatch(lines[0])
    if match is None:
        return None
    headers: list[tuple[bytes, bytes]] = []
    length = -1
    host = False
    for line in lines[1:]:
        field = _HEADER.fullmatch(line)
        if field is None:
            return None
        name = field.group(1).lower()
        value = field.group(2) or b""
        if name in _REFUSED or (name == b"connection" and value.lower() != b"keep-alive"):
            return None  # (keep-alive is HTTP/1.1's default: h11 ignores it too)
        if name == b"content-length":
            if length >= 0 or not value.isdigit():
                return None
            length = int(value)
        elif name == b"host":
            if host:
                return None
            host = True
        elif name == b"accept" and b"event-stream" in value:
            return None
        headers.append((name, value))
    body = data[head_end + 4 :]
    if not host or length != len(body):
        return None
    return SimpleRequest(match.group(1).decode("ascii"), headers, body)


def response_head(status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The status line and headers as h11 writes them."""
    parts = [b"HTTP/1.1 %d \r\n" % status]
    parts.extend(name + b": " + value + b"\r\n" for name, value in headers)
    parts.append(b"\r\n")
    return b"".join(parts)
