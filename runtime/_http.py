"""Small bare-ASGI helpers: reading a bounded body, writing JSON and SSE responses."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import typing
from typing import Any

import trio

from cog._signature.validate import (
    InputValidationError,
    invalid_json_body,
    request_validation_error,
)

# Any, not TypedDicts: the handlers only read a few keys, and Hypercorn and Quart each
# declare their own scope and event types.
Scope = Any
Receive = typing.Callable[[], typing.Awaitable[Any]]
Send = typing.Callable[[Any], typing.Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class BodyTooLarge(Exception):  # noqa: N818
    pass


class ClientGone(Exception):  # noqa: N818
    pass


# Deeper than pydantic's JSON parser allows (200) is refused: what json.loads accepts (about
# 1000 levels, less the caller's stack) the prediction object, pickle and json.dumps could
# not always take again with the server's own frames on top.
MAX_JSON_DEPTH = 200
# A surrogate code point can arrive as a \uD800-\uDFFF escape or as the raw bytes ED A0-BF
# (json.loads decodes bytes with "surrogatepass"); a valid escaped pair becomes one character.
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def load_json_body(body: bytes) -> object:
    """A request body as JSON ({} when empty); InputValidationError (a 422) when it is not
    JSON a prediction can carry: malformed, not UTF-8, nested deeper than MAX_JSON_DEPTH,
    a number past Python's int digit limit, or a string holding a lone surrogate."""
    if not body.strip():
        return {}
    try:
        payload: object = json.loads(body)
    except json.JSONDecodeError as exc:
        raise invalid_json_body(exc) from None
    except UnicodeDecodeError:
        raise _body_error("body is not UTF-8") from None
    except RecursionError:
        raise _too_deep() from None
    except ValueError:  # only an integer with more digits than int() converts
        limit = sys.get_int_max_str_digits()
        raise _body_error(f"JSON decode error: a number has more than {limit} digits") from None
    # Cheap tests first: most bodies hold fewer containers than the limit and no surrogate.
    if (
        len(body) > 2 * MAX_JSON_DEPTH
        and body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
        and _deeper_than(payload, MAX_JSON_DEPTH)
    ):
        raise _too_deep()
    if (b"\\u" in body or b"\xed" in body) and _MAYBE_SURROGATE.search(body):
        _refuse_surrogates(payload)
    return payload


def _body_error(message: str) -> InputValidationError:
    return request_validation_error(("body",), message, "value_error.jsondecode")


def _too_deep() -> InputValidationError:
    return _body_error(f"JSON decode error: nested more than {MAX_JSON_DEPTH} levels deep")


def _deeper_than(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in item)
    return False


def _refuse_surrogates(value: object) -> None:
    """Raise a 422 pointing at the first string (or key) that is not valid Unicode."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(value, ("body",))]
    while stack:
        item, loc = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodable(item):
                raise request_validation_error(
                    loc, "string holds a lone surrogate: not valid Unicode", "value_error.unicode"
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, loc))
                stack.append((child, (*loc, key)))
        elif isinstance(item, list):
            stack.extend((child, (*loc, index)) for index, child in enumerate(item))


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    if declared is not None and declared > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    # Hypercorn's receive is a memory channel's: the body is usually already queued, and
    # taking it without a checkpoint per message saves a trip through the scheduler each.
    channel = getattr(receive, "__self__", None)
    nowait = channel.receive_nowait if isinstance(channel, trio.MemoryReceiveChannel) else None
    while True:
        message = None
        if nowait is not None:
            with contextlib.suppress(trio.WouldBlock):
                message = nowait()
        if message is None:
            message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*(headers or JSON_HEADERS), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, value: object) -> None:
    await respond(send, status, dumps(value))


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def sse_frame(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + dumps(data) + b"\n\n"
