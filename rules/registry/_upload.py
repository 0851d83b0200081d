"""Getting one blob into a repository: HEAD-skip, cross-repository mount, streamed
monolithic PUT or chunked PATCHes (resumed from the registry's Range after a break).

Every body is streamed from disk (a window of the file at a time), never read whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

import requests

from cog.errors import RegistryError
from cog.progress import Task
from cog.rules.oci import Descriptor

from ._api import RegistryClient, RegistryUnreachableError
from ._record import PushRecord

_CHUNK_REFUSED = frozenset({400, 405, 411, 413, 415, 501})
_MAX_BREAKS = 3


@dataclass(frozen=True)
class UploadSettings:
    chunk_size: int
    multipart_threshold: int


@dataclass(frozen=True)
class Outcome:
    how: str  # "skipped", "mounted" or "uploaded"
    bytes_sent: int
    resumed: bool = False


class FileWindow:
    """``length`` bytes of a file from ``offset``, as a request body; counts what is sent."""

    def __init__(self, path: Path, offset: int, length: int, on_read: Callable[[int], None]):
        self._file: BinaryIO = path.open("rb")
        self._file.seek(offset)
        self._left = length
        self._on_read = on_read

    def __len__(self) -> int:
        return self._left

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            self._file.close()
            return b""
        want = self._left if size is None or size < 0 else min(size, self._left)
        data = self._file.read(want)
        if not data:
            raise RegistryError(f"{self._file.name} shrank while it was being pushed", None)
        self._left -= len(data)
        self._on_read(len(data))
        return data

    def close(self) -> None:
        self._file.close()


class _Counter:
    """Bytes of one blob sent so far (its progress task advanced in step)."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self.sent = 0

    def __call__(self, amount: int) -> None:
        self.sent += amount
        self.task.advance(amount)


@dataclass(frozen=True)
class _Session:
    location: str
    min_chunk: int


def _min_chunk(resp: requests.Response) -> int:
    try:
        return max(0, int(resp.headers.get("OCI-Chunk-Min-Length", "0") or 0))
    except ValueError:
        return 0


def _with_digest(location: str, digest: str) -> str:
    return location + ("&" if "?" in location else "?") + "digest=" + quote(digest, safe="")


def _end_of_range(resp: requests.Response) -> int | None:
    """The offset after the last byte the registry holds, from ``Range: 0-N``.

    Registries write an empty upload as ``0-0`` (or ``0--1``); ``0-0`` is read as empty,
    and if one byte was in fact there, the 416 that follows resynchronises.
    """
    value = resp.headers.get("Range", "")
    _, _, end = value.partition("-")
    try:
        last = int(end)
    except ValueError:
        return None
    return last + 1 if last > 0 else 0


class BlobPusher:
    """Pushes blobs of one layout to one repository; safe to call from several threads."""

    def __init__(
        self,
        client: RegistryClient,
        repository: str,
        record: PushRecord,
        settings: UploadSettings,
    ) -> None:
        self._client = client
        self._repo = repository
        self._record = record
        self._settings = settings
        self._scopes = (f"repository:{repository}:pull,push",)

    def exists(self, digest: str) -> bool:
        resp = self._client.request(
            "HEAD", f"/v2/{self._repo}/blobs/{digest}", self._scopes, allow_redirects=False
        )
        resp.close()
        if resp.status_code in (200, 307):
            return True
        if resp.status_code == 404:
            return False
        raise self._client.fail(resp, f"checking blob {digest} in {self._repo}")

    def push(self, desc: Descriptor, path: Path, task: Task) -> Outcome:
        if self.exists(desc.digest):
            task.finish(f"{desc.digest[:19]} already in {self._repo}")
            self._record.add(desc.digest, self._repo)
            return Outcome("skipped", 0)
        location: _Session | None = None
        for source in self._record.repositories(desc.digest):
            if source == self._repo:
                continue
            location = self._mount(desc.digest, source)
            if location is None:
                task.finish(f"{desc.digest[:19]} mounted from {source}")
                self._record.add(desc.digest, self._repo)
                return Outcome("mounted", 0)
            break
        counter = _Counter(task)
        resumed = self._upload(desc, path, counter, location)
        self._record.add(desc.digest, self._repo)
        task.finish(f"{desc.digest[:19]} pushed")
        return Outcome("uploaded", counter.sent, resumed)

    def _mount(self, digest: str, source: str) -> _Session | None:
        """None when mounted; else the upload location the registry opened instead."""
        scopes = (*self._scopes, f"repository:{source}:pull")
        url = f"/v2/{self._repo}/blobs/uploads/?mount={quote(digest)}&from={quote(source)}"
        try:
            resp = self._client.request("POST", url, scopes, headers={"Content-Length": "0"})
        except RegistryError as err:
            if isinstance(err, RegistryUnreachableError):
                raise
            return self._start()  # no pull right on the source: upload instead
        resp.close()
        if resp.status_code == 201:
            return None
        if resp.status_code == 202 and resp.headers.get("Location"):
            return _Session(self._client.url(resp.headers["Location"]), _min_chunk(resp))
        return self._start()

    def _start(self) -> _Session:
        resp = self._client.request(
            "POST",
            f"/v2/{self._repo}/blobs/uploads/",
            self._scopes,
            headers={"Content-Length": "0"},
        )
        resp.close()
        if resp.status_code != 202 or not resp.headers.get("Location"):
            raise self._client.fail(resp, f"starting an upload to {self._repo}")
        return _Session(self._client.url(resp.headers["Location"]), _min_chunk(resp))

    def _upload(
        self, desc: Descriptor, path: Path, counter: _Counter, session: _Session | None
    ) -> bool:
        """Returns True when an earlier, interrupted upload of this blob was resumed."""
        if desc.size < self._settings.multipart_threshold:
            self._monolithic(desc, path, counter, (session or self._start()).location)
            return False
        saved = self._record.upload_location(self._repo, desc.digest)
        if saved is not None and session is None:
            if self._resume(desc, path, counter, saved):
                return True
            self._record.clear_upload(self._repo, desc.digest)
        self._chunked(desc, path, counter, session or self._start(), 0)
        return False

    def _resume(self, desc: Descriptor, path: Path, counter: _Counter, location: str) -> bool:
        """Go on with an upload an earlier push left unfinished; False when the registry
        no longer has it or refuses to complete it (then the blob alone starts again).
        """
        offset = self._status(location)
        if offset is None:
            return False
        counter.task.advance(offset)
        try:
            self._chunked(desc, path, counter, _Session(location, 0), offset)
        except RegistryUnreachableError:
            raise
        except RegistryError:
            return False
        return True

    def _monolithic(self, desc: Descriptor, path: Path, counter: _Counter, location: str) -> None:
        def body() -> FileWindow:
            return FileWindow(path, 0, desc.size, counter)

        resp = self._client.request(
            "PUT",
            _with_digest(location, desc.digest),
            self._scopes,
            body=body,
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(desc.size)},
        )
        resp.close()
        if resp.status_code != 201:
            raise self._client.fail(resp, f"uploading blob {desc.digest} to {self._repo}")

    def _status(self, location: str) -> int | None:
        """How much of the upload at ``location`` the registry holds; None if it is gone."""
        resp = self._client.request("GET", location, self._scopes)
        resp.close()
        if resp.status_code != 204:
            return None
        return _end_of_range(resp)

    def _chunked(
        self, desc: Descriptor, path: Path, counter: _Counter, session: _Session, offset: int
    ) -> None:
        chunk = max(self._settings.chunk_size, session.min_chunk)
        location = session.location
        first = True
        breaks = 0
        while offset < desc.size:
            length = min(chunk, desc.size - offset)
            try:
                resp = self._client.request(
                    "PATCH",
                    location,
                    self._scopes,
                    body=partial(FileWindow, path, offset, length, counter),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(length),
                        "Content-Range": f"{offset}-{offset + length - 1}",
                    },
                )
            except RegistryUnreachableError:
                breaks += 1
                # Raises again if the registry is gone; else go on from what it holds.
                resumed = self._status(location) if breaks <= _MAX_BREAKS else None
                if resumed is None:
                    raise
                offset = resumed
                continue
            resp.close()
            if first and offset == 0 and resp.status_code in _CHUNK_REFUSED:
                # The registry (or a proxy in front of it) takes no chunks: stream it whole.
                self._monolithic(desc, path, counter, self._start().location)
                return
            first = False
            if resp.status_code == 416:
                resync = self._status(location)
                if resync is None or resync == offset:
                    raise self._client.fail(resp, f"resuming the upload of {desc.digest}")
                offset = resync
                continue
            if resp.status_code != 202:
                raise self._client.fail(resp, f"uploading a chunk of {desc.digest}")
            location = self._client.url(resp.headers.get("Location") or location)
            offset += length
            self._record.save_upload(self._repo, desc.digest, location)
        self._finish(desc, location)

    def _finish(self, desc: Descriptor, location: str) -> None:
        resp = self._client.request(
            "PUT",
            _with_digest(location, desc.digest),
            self._scopes,
            headers={"Content-Length": "0"},
        )
        resp.close()
        if resp.status_code != 201:
            raise self._client.fail(resp, f"completing the upload of {desc.digest}")
        self._record.clear_upload(self._repo, desc.digest)
