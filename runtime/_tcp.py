"""Hypercorn's trio connection handler, with fewer scheduler rounds and wakeups per request.

Each request through the stock handler costs: a response head and its body written by two
``send`` calls (the client is woken twice, and on a busy machine the woken client takes
the CPU from the server each time), a lock and a checkpoint around every write, and a
keep-alive timer task stopped and started again per request (a nursery ``start`` each).
This subclass writes what it can straight to the non-blocking socket, holds a response
head that declares a Content-Length until its body (or its end) follows, and keeps one
keep-alive watcher per connection whose deadline moves instead.
"""

from __future__ import annotations

import math
import os
from typing import Any

import h11
import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData
from hypercorn.protocol.h11 import H11Protocol
from hypercorn.trio.tcp_server import MAX_RECV, TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, LifespanState
from hypercorn.utils import parse_socket_addr

from cog.runtime import _fastpath


def _held_back(data: bytes) -> bool:
    """A final response head that announces a body: its body or end of message follows."""
    return (
        data.startswith(b"HTTP/1.1 ")
        and data[9:10] != b"1"
        and data.endswith(b"\r\n\r\n")
        and b"\r\ncontent-length:" in data.lower()
    )


class FastTCPServer(TCPServer):
    def __init__(
        self,
        app: AppWrapper,
        config: Config,
        context: WorkerContext,
        state: LifespanState,
        stream: trio.SSLStream[trio.SocketStream],
    ) -> None:
        super().__init__(app, config, context, state, stream)
        self.idle_task: _KeepAliveTimer = _KeepAliveTimer(self)  # type: ignore[assignment]
        self._held = b""
        self._fast_done: trio.Event | None = None  # set once the fast request in flight ends
        self._gone = trio.Event()  # the client closed the connection
        self._peer: tuple[str, int] | None = None
        self._local: tuple[str, int] | None = None
        # The fast path answers plain HTTP only (its scope says "http"): TLS goes to h11.
        plain: object = stream
        self._plain = not isinstance(plain, trio.SSLStream)
        # A socket's descriptor is written to directly; any other stream (trio's memory
        # streams in tests) through its own send_all.
        self._fd = plain.socket.fileno() if isinstance(plain, trio.SocketStream) else -1
        socket = getattr(plain, "socket", None) if self._plain else None
        if socket is not None:
            self._peer = parse_socket_addr(socket.family, socket.getpeername())
            self._local = parse_socket_addr(socket.family, socket.getsockname())

    async def _read_data(self) -> None:
        # Hypercorn's loop, with simple POST /predictions requests answered by _fast.
        try:
            while True:
                try:
                    with trio.fail_after(self.config.read_timeout or math.inf):
                        data = await self.stream.receive_some(MAX_RECV)
                except (trio.ClosedResourceError, trio.BrokenResourceError, trio.TooSlowError):
                    break
                if self._fast_done is not None:  # bytes after a fast request's: wait for it
                    if data == b"":
                        self._gone.set()
                    await self._fast_done.wait()
                data = bytes(data)
                request = _fastpath.parse(data) if self._fast_ok() else None
                if request is not None:
                    self._fast_done = trio.Event()
                    self._task_group.spawn(self._fast, request)
                    continue
                await self.protocol.handle(RawData(data))
                if data == b"":
                    break
            self._gone.set()
            await self.protocol.handle(Closed())
        finally:
            # The connection is over: its keep-alive watcher must not hold it open.
            self.idle_task.close()

    def _fast_ok(self) -> bool:
        """Between requests, as far as h11 knows (nothing of a request buffered)."""
        protocol = self.protocol.protocol
        if not isinstance(protocol, H11Protocol) or protocol.stream is not None:
            return False
        connection = protocol.connection
        return (
            isinstance(connection, h11.Connection)
            and connection.our_state is h11.IDLE
            and connection.their_state is h11.IDLE
            and not connection.trailing_data[0]
            and self._plain
            and not self._held
            and not self.context.terminated.is_set()
        )

    async def _fast(self, request: _fastpath.SimpleRequest) -> None:
        done = self._fast_done
        assert done is not None
        try:
            await self.idle_task.stop()
            await self._fast_exchange(request)
        finally:
            self._fast_done = None
            done.set()

    async def _fast_exchange(self, request: _fastpath.SimpleRequest) -> None:
        body_sent = False
        started: dict[str, Any] = {}
        gone = self._gone

        async def receive() -> Any:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            if message["type"] == "http.response.start" and not started:
                started.update(message)
            elif message["type"] == "http.response.body" and started:
                headers = [*started.get("headers", []), *self.config.response_headers("h11")]
                head = _fastpath.response_head(int(started["status"]), headers)
                await self._send(head + bytes(message.get("body", b"")))
                if message.get("more_body", False):
                    raise RuntimeError("the fast path answers whole bodies only")

        scope: Any = {
            "type": "http", "http_version": "1.1",
            "asgi": {"spec_version": "2.1", "version": "3.0"},
            "method": "POST", "scheme": "http", "path": request.path,
            "raw_path": request.path.encode(), "query_string": b"",
            "root_path": self.config.root_path, "headers": request.headers,
            "client": self._peer, "server": self._local, "state": {}, "extensions": {},
        }  # fmt: skip
        try:
            await self.app(scope, receive, send, trio.to_thread.run_sync, trio.from_thread.run)
        except Exception:  # noqa: BLE001 (as Hypercorn: logged, answered 500, closed)
            await self.config.log.exception("Error in ASGI Framework")
            if not started:
                headers = [(b"content-length", b"0"), (b"connection", b"close")]
                headers += self.config.response_headers("h11")
                await self._send(_fastpath.response_head(500, headers))
            await self.protocol_send(Closed())
            return
        if not started:  # the app ended without answering: as Hypercorn does
            headers = [(b"content-length", b"0"), (b"connection", b"close")]
            headers += self.config.response_headers("h11")
            await self._send(_fastpath.response_head(500, headers))
            await self.protocol_send(Closed())
        elif self.context.terminated.is_set():
            await self.protocol_send(Closed())
        else:
            await self.idle_task.restart(self._task_group, None)

    async def protocol_send(self, event: Event) -> None:
        if not isinstance(event, RawData):
            if self._held:
                await self._send(b"")
            await super().protocol_send(event)
            return
        if not self._held and _held_back(event.data):
            self._held = event.data
            return
        await self._send(event.data)

    async def _send(self, data: bytes) -> None:
        if self._held:
            data, self._held = self._held + data, b""
        if not data:
            return
        if self._fd >= 0 and not self.send_lock.locked():
            try:
                written = os.write(self._fd, data)
            except BlockingIOError:
                written = 0
            except OSError:  # the client is gone: as the stock handler does on a failed send
                await self.protocol.handle(Closed())
                return
            if written == len(data):
                return
            data = data[written:]
        # The rest (a full socket buffer): the stock path, whole, not interruptible.
        with trio.CancelScope(shield=True):
            await super().protocol_send(RawData(data=data))


class _KeepAliveTimer:
    """Stands in for Hypercorn's TrioSingleTask keep-alive timer (``restart``/``stop``).

    Same behaviour: while the connection is idle, close it once keep_alive_timeout passes
    or the server terminates; while a request runs, neither closes it.
    """

    def __init__(self, server: FastTCPServer) -> None:
        self._server = server
        self._idle = False
        self._deadline = math.inf
        self._became_idle = trio.Event()
        self._scope: trio.CancelScope | None = None
        self._life = trio.CancelScope()
        self._started = False

    async def restart(self, task_group: Any, action: object) -> None:
        self._idle = True
        self._deadline = trio.current_time() + self._server.config.keep_alive_timeout
        if self._scope is not None:
            self._scope.deadline = self._deadline
        self._became_idle.set()
        if not self._started:
            self._started = True
            task_group.spawn(self._watch)

    async def stop(self) -> None:
        self._idle = False
        self._deadline = math.inf
        if self._scope is not None:
            self._scope.deadline = math.inf
        if self._became_idle.is_set():
            self._became_idle = trio.Event()

    def close(self) -> None:
        self._life.cancel()

    async def _watch(self) -> None:
        with self._life:
            await self._wait_idle_end()

    async def _wait_idle_end(self) -> None:
        terminated = self._server.context.terminated
        while True:
            await self._became_idle.wait()
            with trio.CancelScope(deadline=self._deadline) as scope:
                self._scope = scope
                await terminated.wait()
            self._scope = None
            if self._idle and (terminated.is_set() or trio.current_time() >= self._deadline):
                with trio.CancelScope(shield=True):
                    await self._server._initiate_server_close()
                return
