"""Capture a worker's stdout and stderr, at the file-descriptor level, as prediction logs.

What is captured also goes on to the stdout and stderr the worker was started with (the
server's own), as the reference tees it.

fd 1 and 2 are pipes read by threads, so writes from C code are captured too. Python-level
writes go through ``sys.stdout``/``sys.stderr`` replacements that know, from a contextvar,
which prediction (asyncio task) printed them; raw fd writes are attributed to the one
running prediction, or to setup when none is running.
"""

from __future__ import annotations

import contextvars
import ctypes
import fcntl
import io
import os
import select
import struct
import sys
import termios
import threading
import typing
from collections.abc import Callable
from typing import Any

from cog.runtime._messages import Log

current_prediction: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cog_prediction", default=None
)

Send = typing.Callable[[object], None]


class _Attribution:
    """Which predictions are running, for writes that carry no context (raw fd writes)."""

    def __init__(self) -> None:
        self.running: list[str] = []

    def owner(self) -> str | None:
        running = self.running
        return running[-1] if running else None


attribution = _Attribution()


class TaggedStream(io.TextIOBase):
    """sys.stdout/sys.stderr: each complete line becomes a Log for the printing prediction."""

    def __init__(self, source: str, send: Send, fd: int) -> None:
        self._source = source
        self._send = send
        self._fd = fd
        self._pending: dict[str | None, str] = {}
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        # Code that hands sys.stdout to a subprocess or C library writes to the captured fd.
        return self._fd

    @property
    def buffer(self) -> _BinaryWriter:
        return _BinaryWriter(self)

    def write(self, text: str) -> int:
        owner = current_prediction.get()
        if owner is None:
            owner = attribution.owner()
        with self._lock:
            buffered = self._pending.pop(owner, "") + text
            head, sep, tail = buffered.rpartition("\n")
            if tail:
                self._pending[owner] = tail
        if sep:
            self._send(Log(owner, self._source, head + sep))
        return len(text)

    def flush_owner(self, owner: str | None) -> None:
        with self._lock:
            rest = self._pending.pop(owner, "")
        if rest:
            self._send(Log(owner, self._source, rest))

    def flush(self) -> None:
        return None


class _BinaryWriter(io.RawIOBase):
    """``sys.stdout.buffer``: bytes written there are logged like text."""

    def __init__(self, text: TaggedStream) -> None:
        self._text = text

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._text.write(chunk.decode(errors="replace"))
        return len(chunk)


class _FdPump:
    """Reads one redirected descriptor in a thread and sends what it reads as logs."""

    def __init__(self, target_fd: int, source: str, send: Send) -> None:
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, target_fd)
        os.close(write_fd)
        self._read_fd = read_fd
        self._source = source
        self._send = send
        self._busy = threading.Lock()
        threading.Thread(target=self._pump, name=f"cog-{source}", daemon=True).start()

    def _pump(self) -> None:
        # Bytes leave the pipe only while _busy is held, so drain() can tell "nothing
        # left" (empty pipe, lock free) from "read but not sent yet".
        poller = select.poll()
        poller.register(self._read_fd, select.POLLIN)
        while True:
            poller.poll()
            with self._busy:
                chunk = os.read(self._read_fd, 65536)
                if not chunk:
                    return
                self._send(Log(attribution.owner(), self._source, chunk.decode(errors="replace")))

    def drain(self) -> None:
        """Wait until everything written so far has been read and sent."""
        while True:
            pending = struct.unpack("i", fcntl.ioctl(self._read_fd, termios.FIONREAD, b"\0" * 4))
            if pending[0] == 0:
                with self._busy:
                    return
            threading.Event().wait(0.0005)


class _Tee:
    """Each Log also goes, as it is sent, to the stdout/stderr the worker was started with.

    So a container's log shows what the model prints (setup, predictions, background
    threads), as the reference's does, while each prediction keeps its own logs.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._fds: dict[str, int] = {}
        for source, fd in (("stdout", 1), ("stderr", 2)):
            try:
                self._fds[source] = os.dup(fd)
            except OSError:  # started without it: nothing to tee to
                continue
            os.set_inheritable(self._fds[source], False)

    def __call__(self, message: object) -> None:
        if isinstance(message, Log):
            self._write(message.source, message.data)
        self._send(message)

    def _write(self, source: str, text: str) -> None:
        fd = self._fds.get(source)
        if fd is None:
            return
        data = memoryview(text.encode("utf-8", "backslashreplace"))
        with self._lock:
            try:
                while data:
                    data = data[os.write(fd, data) :]
            except OSError:  # a closed or broken stream: the logs still get it
                self._fds.pop(source, None)


class Capture:
    def __init__(self, send: Send) -> None:
        self._libc_flush = _libc_fflush()
        send = _Tee(send)  # before the pumps take fd 1 and 2 over
        self.stdout = TaggedStream("stdout", send, 1)
        self.stderr = TaggedStream("stderr", send, 2)
        self._pumps = (_FdPump(1, "stdout", send), _FdPump(2, "stderr", send))
        sys.stdout = self.stdout
        sys.stderr = self.stderr

    def finish(self, owner: str | None) -> None:
        """Send everything ``owner`` printed, before its completion is reported."""
        self._libc_flush()
        for pump in self._pumps:
            pump.drain()
        self.stdout.flush_owner(owner)
        self.stderr.flush_owner(owner)


def _libc_fflush() -> Callable[[], None]:
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return lambda: None
    fflush = libc.fflush

    def flush() -> None:
        fflush(None)

    return flush
