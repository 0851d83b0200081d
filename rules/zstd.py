"""Streaming zstd decompression through the zstd binary (Python before 3.14 has no zstd).

Debian packages, python-build-standalone archives and OCI layers may be zstd-compressed.
A feeder thread writes the compressed bytes into ``zstd -dc`` while the caller reads the
output in pieces no larger than it asks for, so a caller that bounds what it reads (an
untrusted layer's unpacked size) stops a bomb after that many bytes and ``close()`` kills
the process. zstd's own decoder refuses a frame that needs a window over 128 MiB (its
default ``--memory`` limit), so hostile input cannot make it allocate more.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Callable
from typing import Protocol

from cog.errors import CogError

from .host_tools import require

MAGIC = b"\x28\xb5\x2f\xfd"  # a zstd frame's first four bytes
_CHUNK = 1 << 20


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class ZstdReader:
    """A file-like ``read(n)`` of the decompressed stream; ``close()`` always.

    ``error(message)`` makes the exception for undecodable input; an exception the source
    raised while it was read (a size limit, an I/O error) is raised as it was.
    """

    def __init__(
        self,
        source: _Readable,
        what: str,
        error: Callable[[str], CogError],
        missing_error: type[CogError],
    ) -> None:
        self._what, self._error = what, error
        binary = require("zstd", missing_error)
        self._proc = subprocess.Popen(
            [binary, "-dcq", "--no-progress"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._failure: BaseException | None = None
        self._done = False
        self._feeder = threading.Thread(target=self._feed, args=(source,), daemon=True)
        self._feeder.start()

    def _feed(self, source: _Readable) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            while chunk := source.read(_CHUNK):
                stdin.write(chunk)
        except BrokenPipeError:
            pass  # zstd stopped reading: it failed, or close() killed it
        except BaseException as failure:  # noqa: BLE001 (re-raised in the reading thread)
            self._failure = failure
        finally:
            with contextlib.suppress(BrokenPipeError):
                stdin.close()

    def read(self, n: int = -1) -> bytes:
        stdout = self._proc.stdout
        assert stdout is not None
        if self._done:
            return b""
        data = os.read(stdout.fileno(), n if n > 0 else _CHUNK)  # what is there, up to n
        if not data:
            self._finish()
        return data

    def _finish(self) -> None:
        self._done = True
        self._feeder.join()
        assert self._proc.stderr is not None
        stderr = self._proc.stderr.read().decode("utf-8", "replace").strip()
        returncode = self._proc.wait()
        if self._failure is not None:
            raise self._failure
        if returncode != 0:
            why = stderr.splitlines()[-1] if stderr else f"zstd exited with {returncode}"
            raise self._error(f"{self._what} is not valid zstd: {why.removeprefix('zstd: ')}")

    def close(self) -> None:
        """Stop zstd (if still running) and release its pipes."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._feeder.join()
        for pipe in (self._proc.stdout, self._proc.stderr):
            if pipe is not None:
                pipe.close()

    def __enter__(self) -> ZstdReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
