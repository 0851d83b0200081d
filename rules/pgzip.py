"""gzip on every core for one stream, with output that does not depend on the core count.

The stream is cut into fixed 1 MiB blocks, as pigz does; each block is deflated on its
own (zlib releases the GIL) with the previous 32 KiB as its dictionary and ends on a
sync flush, the last one on a finish. The bytes depend only on the input, the block size
and the level, so every machine writes the same layer blob. Memory stays at a few blocks
per worker.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

BLOCK = 1 << 20
_WINDOW = 32 * 1024


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


def _deflate(block: bytes, zdict: bytes, level: int, last: bool) -> bytes:
    if zdict:
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(block) + c.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)


def _header(level: int) -> bytes:
    # As Python's gzip module writes it: no name, mtime 0, XFL by level, OS "unknown".
    xfl = b"\x02" if level == 9 else b"\x04" if level == 1 else b"\x00"
    return b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + xfl + b"\xff"


class ParallelGzip:
    def __init__(self, out: _Sink, level: int = 6, workers: int | None = None) -> None:
        self._out = out
        self._level = level
        self._workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self._workers)
        self._pending: deque[Future[bytes]] = deque()
        self._buffer = bytearray()
        self._previous_tail = b""
        self._crc = 0
        self._size = 0
        self._closed = False
        out.write(_header(level))

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        while len(self._buffer) >= BLOCK:
            block = bytes(self._buffer[:BLOCK])
            del self._buffer[:BLOCK]
            self._submit(block, last=False)
        return len(data)

    def _submit(self, block: bytes, *, last: bool) -> None:
        self._crc = zlib.crc32(block, self._crc)
        self._size += len(block)
        zdict, self._previous_tail = self._previous_tail, block[-_WINDOW:]
        self._pending.append(self._pool.submit(_deflate, block, zdict, self._level, last))
        while len(self._pending) > 2 * self._workers:
            self._out.write(self._pending.popleft().result())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._submit(bytes(self._buffer), last=True)
            self._buffer.clear()
            while self._pending:
                self._out.write(self._pending.popleft().result())
            self._out.write(struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
