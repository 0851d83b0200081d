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

import trio
from hypercorn.config import Config
from hypercorn.events import Closed, Event, RawData
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import AppWrapper, LifespanState


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
        # Plain TCP only (TLS goes through its stream): the descriptor to write to directly.
        plain: object = stream
        self._fd = plain.socket.fileno() if isinstance(plain, trio.SocketStream) else -1

    async def _read_data(self) -> None:
        try:
            await super()._read_data()
        finally:
            # The connection is over: its keep-alive watcher must not hold it open.
            self.idle_task.close()

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
