"""runtime/_tcp.py's connection handler, driven over trio's in-memory streams.

As Hypercorn's own tests drive its TCPServer: one handler per test on one end of
``trio.testing.memory_stream_pair``, the test writing raw bytes to the other end, split
wherever it likes, each part read by the server before the next is sent. A table of
requests says which the fast path answers itself and which it must leave to h11; every
answer is checked as the client reads it.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import trio
import trio.testing
from hypercorn.app_wrappers import ASGIWrapper
from hypercorn.config import Config
from hypercorn.trio.worker_context import WorkerContext

from cog.runtime._tcp import FastTCPServer

pytestmark = pytest.mark.unit


class _Socket:
    """What the handler asks of a socket: its family and both addresses."""

    family = socket.AF_INET

    def getpeername(self) -> tuple[str, int]:
        return ("127.0.0.1", 40000)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 5000)


@dataclass
class _App:
    """Echoes method, path and body as JSON; a body ``wait`` waits for the client to go."""

    seen: list[str] = field(default_factory=list)
    disconnected: trio.Event = field(default_factory=trio.Event)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.seen.append(f"{scope['method']} {scope['path']}")
        if body == b"wait":
            if (await receive())["type"] == "http.disconnect":
                self.disconnected.set()
            return
        answer = json.dumps(
            {"method": scope["method"], "path": scope["path"], "body": body.decode()}
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


class _Recording(FastTCPServer):
    fast: list[str]

    async def _fast(self, request: Any) -> None:
        self.fast.append(request.path)
        await super()._fast(request)


@dataclass
class _Client:
    stream: trio.StapledStream[trio.testing.MemorySendStream, trio.testing.MemoryReceiveStream]
    app: _App
    fast: list[str]
    buffer: bytes = b""

    async def send(self, *parts: bytes) -> None:
        """Each part in its own write, read by the server before the next is sent."""
        for part in parts:
            await self.stream.send_all(part)
            await trio.testing.wait_all_tasks_blocked()

    async def _fill(self) -> bool:
        data = await self.stream.receive_some()
        self.buffer += data
        return bool(data)

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            assert await self._fill(), f"closed after {self.buffer!r}"
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines)
        length = 0 if status_line[9] == "1" else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            assert await self._fill(), "closed inside a body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line[9:12]), headers, body

    async def closed(self) -> bool:
        """Whether the server closes the connection without sending anything more."""
        with trio.move_on_after(5):
            while await self._fill():
                pass
            return self.buffer == b""
        return False


def _run(scenario: Callable[[_Client], Awaitable[None]]) -> None:
    async def main() -> None:
        config = Config()
        config.keep_alive_timeout = 60
        app = _App()
        client_stream, server_stream = trio.testing.memory_stream_pair()
        server_stream.socket = _Socket()  # type: ignore[attr-defined]
        wrapped = ASGIWrapper(app)
        server = _Recording(wrapped, config, WorkerContext(None), {}, server_stream)  # type: ignore[arg-type]
        server.fast = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(server.run)
            with trio.fail_after(10):
                await scenario(_Client(client_stream, app, server.fast))
            nursery.cancel_scope.cancel()

    trio.run(main)


def _post(body: bytes = b'{"input":{}}', path: str = "/predictions", extra: bytes = b"") -> bytes:
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" % (
        path.encode(),
        len(body),
        extra,
    )
    return head + body


GET = b"GET /health-check HTTP/1.1\r\nHost: x\r\n\r\n"
CHUNKED = (
    b"POST /predictions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'5\r\n{"inp\r\n7\r\nut":{}}\r\n0\r\n\r\n'
)
CHUNKED_WITH_LENGTH = CHUNKED.replace(
    b"Transfer-Encoding",
    b"Content-Length: %d\r\nTransfer-Encoding" % len(CHUNKED.split(b"\r\n\r\n", 1)[1]),
)

# (request bytes, whether the fast path answers it, the body the app saw)
SINGLE = {
    "plain POST": (_post(), True, '{"input":{}}'),
    "trailing slash": (_post(path="/predictions/"), True, '{"input":{}}'),
    "keep-alive said aloud": (_post(extra=b"Connection: keep-alive\r\n"), True, '{"input":{}}'),
    "any other header": (_post(extra=b"X-Any: 1\r\n"), True, '{"input":{}}'),
    "empty body": (_post(b""), True, ""),
    "another path": (_post(path="/predictions/abc"), False, '{"input":{}}'),
    "a GET": (GET, False, ""),
    "chunked body": (CHUNKED, False, '{"input":{}}'),
    "event stream": (_post(extra=b"Accept: text/event-stream\r\n"), False, '{"input":{}}'),
    "HTTP/1.0": (_post().replace(b"HTTP/1.1", b"HTTP/1.0"), False, '{"input":{}}'),
    "query string": (_post(path="/predictions?x=1"), False, '{"input":{}}'),
    "no Host": (_post().replace(b"Host: x\r\n", b""), False, None),
    "two Content-Lengths": (_post(extra=b"Content-Length: 12\r\n"), False, '{"input":{}}'),
    # h11 reads the chunks and ignores the length; the fast path must not take the raw bytes.
    "Content-Length and chunked": (CHUNKED_WITH_LENGTH, False, '{"input":{}}'),
}


@pytest.mark.parametrize("name", SINGLE)
def test_each_request_is_answered_by_the_right_path(name: str) -> None:
    request, fast, seen_body = SINGLE[name]

    async def scenario(client: _Client) -> None:
        await client.send(request)
        status, headers, body = await client.response()
        if seen_body is None:  # h11 refuses it
            assert (status, client.app.seen) == (400, [])
        else:
            assert status == 200
            assert json.loads(body)["body"] == seen_body
            assert headers["content-type"] == "application/json"
        assert {"date", "server", "content-length"} <= set(headers)
        assert len(client.fast) == int(fast)

    _run(scenario)


def test_both_paths_write_the_same_response_head() -> None:
    async def scenario(client: _Client) -> None:
        await client.send(_post())
        fast = await client.response()
        await client.send(CHUNKED)  # the same request with a chunked body: h11's
        slow = await client.response()
        assert client.fast == ["/predictions"]
        assert fast[0] == slow[0] == 200
        assert list(fast[1]) == list(slow[1])  # same headers, same order
        assert fast[2] == slow[2]

    _run(scenario)


PIPELINE = _post(b'{"n":1}') + GET + _post(b'{"n":2}') + CHUNKED + _post(b'{"n":3}')
PIPELINE_ANSWERS = ['{"n":1}', "", '{"n":2}', '{"input":{}}', '{"n":3}']


LAST = len(PIPELINE) - len(_post(b'{"n":3}'))  # the last request whole in the second read


@pytest.mark.parametrize("split", [0, 1, 17, 40, 58, 59, 60, 75, 100, 160, LAST, len(PIPELINE) - 1])
def test_pipelined_requests_split_anywhere_are_answered_in_order(split: int) -> None:
    async def scenario(client: _Client) -> None:
        await client.send(*[p for p in (PIPELINE[:split], PIPELINE[split:]) if p])
        bodies = [json.loads((await client.response())[2])["body"] for _ in PIPELINE_ANSWERS]
        assert bodies == PIPELINE_ANSWERS
        assert len(client.app.seen) == len(PIPELINE_ANSWERS)
        # Bytes behind a request are never the fast path's; a lone whole request is.
        assert client.fast == (["/predictions"] if split == LAST else [])

    _run(scenario)


def test_keep_alive_mixes_fast_and_h11_requests() -> None:
    order = [_post(b"1"), GET, _post(b"2"), CHUNKED, _post(b"3"), _post(b"44", path="/x")]

    async def scenario(client: _Client) -> None:
        for request in order:
            await client.send(request)
            assert (await client.response())[0] == 200
        assert client.fast == ["/predictions", "/predictions", "/predictions"]
        assert len(client.app.seen) == len(order)

    _run(scenario)


def test_a_request_split_between_reads_goes_to_h11() -> None:
    request = _post(b'{"input":{"a":1}}')

    async def scenario(client: _Client) -> None:
        await client.send(request[:30], request[30:])
        assert json.loads((await client.response())[2])["body"] == '{"input":{"a":1}}'
        assert client.fast == []
        await client.send(_post())  # and the next whole one is fast again
        assert (await client.response())[0] == 200
        assert client.fast == ["/predictions"]

    _run(scenario)


def test_a_whole_request_after_a_partial_one_is_not_taken_from_h11() -> None:
    async def scenario(client: _Client) -> None:
        # h11 holds "GET /he" when the next read brings a whole simple request: the two
        # are one stream of bytes, h11's to judge (a 400), not a fast request to answer.
        await client.send(_post(b"1") + b"GET /he", _post())
        assert (await client.response())[0] == 200
        assert (await client.response())[0] == 400
        assert client.fast == []
        assert client.app.seen == ["POST /predictions"]

    _run(scenario)


def test_a_body_that_looks_like_a_request_stays_a_body() -> None:
    inner = _post()
    outer = _post(inner)
    head = outer[: len(outer) - len(inner)]

    async def scenario(client: _Client) -> None:
        await client.send(head, inner)  # the body arrives in a read of its own
        status, _, body = await client.response()
        assert (status, json.loads(body)["body"]) == (200, inner.decode())
        assert client.fast == []
        assert client.app.seen == ["POST /predictions"]

    _run(scenario)


def test_connection_close_goes_to_h11_which_closes() -> None:
    async def scenario(client: _Client) -> None:
        await client.send(_post(extra=b"Connection: close\r\n"))
        status, headers, _ = await client.response()
        assert (status, headers["connection"]) == (200, "close")
        assert client.fast == []
        assert await client.closed()

    _run(scenario)


def test_expect_100_continue_goes_to_h11() -> None:
    head, body = _post(extra=b"Expect: 100-continue\r\n").split(b"\r\n\r\n", 1)

    async def scenario(client: _Client) -> None:
        await client.send(head + b"\r\n\r\n")
        assert (await client.response())[0] == 100
        await client.send(body)
        status, _, answer = await client.response()
        assert (status, json.loads(answer)["body"]) == (200, '{"input":{}}')
        assert client.fast == []

    _run(scenario)


def test_a_disconnect_mid_request_gets_h11s_400_and_a_close() -> None:
    async def scenario(client: _Client) -> None:
        await client.send(_post()[:25])
        await client.stream.send_eof()
        assert (await client.response())[0] == 400  # as stock Hypercorn: h11's verdict
        assert await client.closed()
        assert client.app.seen == []
        assert client.fast == []

    _run(scenario)


def test_a_disconnect_during_a_fast_request_reaches_the_app() -> None:
    async def scenario(client: _Client) -> None:
        await client.send(_post(b"wait"))
        assert client.fast == ["/predictions"]
        await client.stream.send_eof()
        await client.app.disconnected.wait()
        status, headers, _ = await client.response()  # no answer from the app: as Hypercorn
        assert (status, headers["connection"]) == (500, "close")
        assert await client.closed()

    _run(scenario)


def test_a_malformed_header_gets_h11s_400() -> None:
    async def scenario(client: _Client) -> None:
        await client.send(_post(extra=b"Bad Header: 1\r\n"))
        assert (await client.response())[0] == 400
        assert client.fast == []
        assert client.app.seen == []

    _run(scenario)
