"""Outbound HTTP (file-input downloads, webhooks) whose deadlines hold against the peer.

requests blocks a thread, and its timeouts are per socket operation: a peer that sends a
byte every half second keeps one call alive for ever, and trio cannot cancel a thread.
So each call runs in a worker thread whose connections register a duplicate of their
socket with an ``Abort``. At the deadline, on cancelation (a canceled prediction, the
shutdown) the trio side stops waiting at once (``abandon_on_cancel``) and shuts those
sockets down: the thread's blocking read fails, the thread returns within moments, and
its limiter token with it. A thread never holds a token longer than its deadline plus
the connect timeout, so hung peers cannot exhaust a limiter for good.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from typing import TypeVar

import trio

from cog import _net
from cog._sdk.useragent import get_user_agent

T = TypeVar("T")

CONNECT_TIMEOUT = _net.OUTBOUND_CONNECT_TIMEOUT
_local = threading.local()


class Abort:
    """The sockets of one call, to shut down from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.aborted = False

    def track(self, sock: socket.socket) -> None:
        # A duplicate: ours to close, so its number is never another connection's, and
        # shutdown() through it stops the connection whatever wraps the original (TLS).
        dup = sock.dup()
        with self._lock:
            if not self.aborted:
                self._sockets.append(dup)
                return
        _shut(dup)

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def release(self) -> None:
        """The call is over: close the duplicates (the connections stay as requests left them)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    sock.close()


def aborted() -> bool:
    """In a call's thread: whether the trio side has given up on it."""
    abort: Abort | None = getattr(_local, "abort", None)
    return abort is not None and abort.aborted


def _track(sock: socket.socket) -> None:
    abort: Abort | None = getattr(_local, "abort", None)
    if abort is not None:
        abort.track(sock)


async def call(
    fn: Callable[..., T],
    *args: object,
    deadline: float,
    limiter: trio.CapacityLimiter,
    stop: trio.Event | None = None,
) -> T:
    """``fn(*args)`` in a worker thread, given up at ``deadline`` (trio.current_time()).

    Raises trio.TooSlowError at the deadline, and ``Stopped`` when ``stop`` is set first.
    """
    abort = Abort()

    def work() -> T:
        _local.abort = abort
        try:
            return fn(*args)
        finally:
            _local.abort = None
            abort.release()

    try:
        with trio.fail_at(deadline):
            if stop is None:
                return await trio.to_thread.run_sync(work, limiter=limiter, abandon_on_cancel=True)
            return await _until(stop, work, limiter)
    finally:
        abort.abort()  # a no-op when the call returned by itself


@contextlib.contextmanager
def deadline_in_thread(seconds: float) -> Iterator[Abort]:
    """For a blocking call made in a thread of trio's own: its sockets shut at ``seconds``.

    A timer thread aborts it, so the deadline holds however the peer trickles (the
    thread's caller cannot give up on it from trio, but it is back within moments).
    """
    abort = Abort()
    timer = threading.Timer(seconds, abort.abort)
    timer.daemon = True
    previous = getattr(_local, "abort", None)
    _local.abort = abort
    timer.start()
    try:
        yield abort
    finally:
        timer.cancel()
        _local.abort = previous
        abort.release()


class Stopped(Exception):  # noqa: N818 (not an error: the caller asked for it)
    pass


async def _until(stop: trio.Event, work: Callable[[], T], limiter: trio.CapacityLimiter) -> T:
    result: list[T] = []
    error: list[Exception] = []
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            try:
                done = await trio.to_thread.run_sync(work, limiter=limiter, abandon_on_cancel=True)
                result.append(done)
            except Exception as exc:  # noqa: BLE001 (raised below as itself, not in a group)
                error.append(exc)
            nursery.cancel_scope.cancel()

        nursery.start_soon(run)
        await stop.wait()
        nursery.cancel_scope.cancel()
    if error:
        raise error[0]
    if not result:
        raise Stopped
    return result[0]


def shown_url(url: str) -> str:
    """A URL for messages and logs: no query, fragment or credentials, at most 200 chars.

    A file input's or webhook's URL is the client's own, but its query may hold a
    signature or token that does not belong in a log.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.netloc:
        host = parts.netloc.rpartition("@")[2]
        url = parts._replace(netloc=host, query="", fragment="").geturl()
    return url if len(url) <= 200 else url[:200] + "..."


def session() -> _net.Client:
    """A client of the seam (cog/_net) whose connections report their sockets to the
    running call.

    It sends cog's own User-Agent (``cog-worker/<version>``), not python-requests', and
    honours the user's proxy and CA settings as requests does.
    """
    transport = _net.HTTPTransport(on_socket=_track)  # loads requests: only after setup
    return _net.Client(_net.outbound_policy(get_user_agent()), transport=transport)
