"""Length-prefixed pickle frames over a pipe: blocking on the worker side, trio on ours."""

from __future__ import annotations

import os
import pickle
import struct
import threading

import trio

_HEADER = struct.Struct(">I")


def encode(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


class BlockingWriter:
    """Writes whole frames to a file descriptor; safe to share between threads.

    A signal handler that wants to raise in the main thread (cancellation) must not cut a
    frame in half: while the main thread is writing, ``main_busy`` is set and the handler
    stores its exception in ``deferred`` instead, raised once the frame is out.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._main = threading.main_thread().ident
        self.main_busy = False
        self.deferred: BaseException | None = None

    def send(self, message: object) -> None:
        data = memoryview(encode(message))
        in_main = threading.get_ident() == self._main
        with self._lock:
            if in_main:
                self.main_busy = True
            try:
                while data:
                    written = os.write(self._fd, data)
                    data = data[written:]
            finally:
                if in_main:
                    self.main_busy = False
        if in_main and self.deferred is not None:
            deferred, self.deferred = self.deferred, None
            raise deferred


class BlockingReader:
    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "rb", buffering=65536)

    def receive(self) -> object | None:
        """The next message, or None at end of stream."""
        header = self._file.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return None
        (size,) = _HEADER.unpack(header)
        body = self._file.read(size)
        if len(body) < size:
            return None
        message: object = pickle.loads(body)  # noqa: S301 (our own worker, over our own pipe)
        return message


class TrioReader:
    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def receive(self) -> object | None:
        """The next message, or None at end of stream."""
        while True:
            if len(self._buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self._buffer)
                end = _HEADER.size + size
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[_HEADER.size : end])
                    del self._buffer[:end]
                    message: object = pickle.loads(body)  # noqa: S301 (our worker's pipe)
                    return message
            chunk = await self._stream.receive_some(65536)
            if not chunk:
                return None
            self._buffer += chunk
