"""Length-prefixed pickle frames over a pipe (the worker's blocking side; no trio here)."""

from __future__ import annotations

import os
import pickle
import struct
import threading

HEADER = struct.Struct(">I")


def encode(message: object) -> bytes:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


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
        header = self._file.read(HEADER.size)
        if len(header) < HEADER.size:
            return None
        (size,) = HEADER.unpack(header)
        body = self._file.read(size)
        if len(body) < size:
            return None
        message: object = pickle.loads(body)  # noqa: S301 (our own worker, over our own pipe)
        return message
