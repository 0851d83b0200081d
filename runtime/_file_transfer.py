"""File inputs (URLs fetched to temp files) and file outputs (data URLs or uploads)."""

from __future__ import annotations

import base64
import contextlib
import logging
import mimetypes
import os
import pathlib
import typing
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

import trio

from cog import _net
from cog._signature.model import Signature
from cog.runtime._messages import SPILL_PREFIX, OutputFile
from cog.runtime._outbound import (
    Stopped,
    aborted,
    call,
    deadline_in_thread,
    session,
    shown_url,
)
from cog.runtime.settings import DEFAULT_MAX_INPUT_FILE_BYTES

if TYPE_CHECKING:
    import requests

log = logging.getLogger("cog.runtime")

_CHUNK = 1 << 16
# Downloads get threads of their own (trio's default 40 are shared with uploads); one
# limiter per trio run, as trio's own default limiter.
_LIMITER: trio.lowlevel.RunVar[trio.CapacityLimiter] = trio.lowlevel.RunVar("cog_downloads")
MAX_DOWNLOADS = 64


class InputFileError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class UploadError(Exception):
    pass


_NAME_MAX_BYTES = 200  # room left for a "<n>-" prefix within NAME_MAX (255)
_UNSAFE = frozenset("/\\\x00") | frozenset(map(chr, range(32))) | {"\x7f"}


@dataclass(frozen=True)
class Fetcher:
    user_agent: str
    timeout: float  # seconds for one URL, all of it (connect, headers and every byte)
    max_bytes: int = DEFAULT_MAX_INPUT_FILE_BYTES

    def fetch(self, field: str, url: str, directory: str) -> str:
        """Fetch ``url`` into ``directory``; return the local path (blocking: in a thread)."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme == "data":
            return self._data_url(field, url, directory)
        if scheme not in ("http", "https"):
            raise InputFileError(field, f"unsupported URL scheme {scheme!r} in {shown_url(url)}")
        return self._http(field, url, directory)

    def _data_url(self, field: str, url: str, directory: str) -> str:
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise InputFileError(field, "malformed data URL: no ',' before the data")
        media = header[: -len(";base64")] if header.endswith(";base64") else header  # 3.8
        try:
            data = (
                base64.b64decode(payload, validate=False)
                if header.endswith(";base64")
                else urllib.parse.unquote_to_bytes(payload)
            )
        except ValueError as exc:
            raise InputFileError(field, f"malformed data URL: {exc}") from exc
        ext = mimetypes.guess_extension(media.split(";")[0] or "text/plain") or ""
        path = _unique(directory, f"{field}{ext}")
        pathlib.Path(path).write_bytes(data)
        return path

    def _http(self, field: str, url: str, directory: str) -> str:
        path = _unique(directory, safe_name(urllib.parse.urlsplit(url).path, field))
        headers = {"User-Agent": self.user_agent}

        # The whole-download deadline is the caller's (outbound.call): these only bound
        # each socket operation.
        connect, read = _net.OUTBOUND_TIMEOUT
        timeout = (min(self.timeout, connect), min(self.timeout, read))
        with contextlib.ExitStack() as stack:  # one line per manager: Python 3.8
            sess = stack.enter_context(session())
            response = stack.enter_context(
                sess.get(url, headers=headers, stream=True, timeout=timeout)
            )
            if response.status_code >= 400:
                raise InputFileError(
                    field, f"fetching {shown_url(url)} failed: HTTP {response.status_code}"
                )
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                raise self._too_large(field, url)
            written = 0
            with open(path, "wb") as out:
                for chunk in response.iter_content(_CHUNK):
                    written += len(chunk)
                    if written > self.max_bytes:
                        raise self._too_large(field, url)
                    if aborted():
                        raise InputFileError(field, "download abandoned")
                    out.write(chunk)
        return path

    def _too_large(self, field: str, url: str) -> InputFileError:
        return InputFileError(
            field,
            f"{shown_url(url)} is larger than the input file limit of {self.max_bytes} bytes"
            " (COG_MAX_INPUT_FILE_BYTES)",
        )


def safe_name(url_path: str, fallback: str) -> str:
    """A file name for a URL's last path segment: one safe segment, at most 200 bytes.

    NUL, separators and control characters become "_"; "." and ".." and empty names
    become ``fallback``; a long name is cut, keeping its extension.
    """
    name = urllib.parse.unquote(url_path.rsplit("/", 1)[-1], errors="replace")
    name = name.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON
    name = "".join("_" if ch in _UNSAFE else ch for ch in name).strip()
    if name.strip(".") == "":
        name = fallback or "input"
    if len(name.encode()) <= _NAME_MAX_BYTES:
        return name
    stem, ext = os.path.splitext(name)
    if len(ext.encode()) > 32:
        stem, ext = name, ""
    room = _NAME_MAX_BYTES - len(ext.encode())
    return stem.encode()[:room].decode("utf-8", errors="ignore") + ext


def _reason(exc: requests.RequestException) -> str:
    import requests  # noqa: PLC0415

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke before the end of the file"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return type(exc).__name__


def _unique(directory: str, name: str) -> str:
    path = os.path.join(directory, name)
    counter = 0
    while os.path.exists(path):
        counter += 1
        path = os.path.join(directory, f"{counter}-{name}")
    return path


async def fetch_inputs(
    signature: Signature,
    kwargs: dict[str, object],
    fetcher: Fetcher,
    directory: str,
    stop: trio.Event,
) -> dict[str, object]:
    """kwargs with every file input (a URL) replaced by the path of its local copy.

    Raises InputFileError for any reason a file cannot be had; returns early, with
    ``kwargs`` as they were, once ``stop`` is set (the prediction was canceled).
    """
    result = dict(kwargs)
    try:
        for spec in signature.inputs:
            primitive = spec.type.primitive
            value = result.get(spec.name)
            if primitive is None or not primitive.is_file or value is None:
                continue
            if isinstance(value, list):
                result[spec.name] = [
                    await _fetch_one(fetcher, spec.name, str(v), directory, stop) for v in value
                ]
            else:
                result[spec.name] = await _fetch_one(
                    fetcher, spec.name, str(value), directory, stop
                )
    except Stopped:
        return kwargs
    return result


async def _fetch_one(
    fetcher: Fetcher, field: str, url: str, directory: str, stop: trio.Event
) -> str:
    import requests  # noqa: PLC0415

    deadline = trio.current_time() + fetcher.timeout
    try:
        limiter = _LIMITER.get()
    except LookupError:
        limiter = trio.CapacityLimiter(MAX_DOWNLOADS)
        _LIMITER.set(limiter)
    try:
        return await call(
            fetcher.fetch, field, url, directory, deadline=deadline, limiter=limiter, stop=stop
        )
    except trio.TooSlowError:
        message = f"fetching {shown_url(url)} timed out: not done within {fetcher.timeout:g}s"
        raise InputFileError(field, message) from None
    except requests.RequestException as exc:
        raise InputFileError(field, f"fetching {shown_url(url)} failed: {_reason(exc)}") from exc
    except OSError as exc:  # ENOSPC, EDQUOT, EMFILE...: this prediction's problem only
        reason = exc.strerror or type(exc).__name__
        raise InputFileError(field, f"fetching {shown_url(url)} failed: {reason}") from exc
    except (InputFileError, Stopped):
        raise
    except Exception as exc:  # one request must never stop the server: say what it was
        log.warning("fetching a file input failed", exc_info=True)
        message = f"fetching {shown_url(url)} failed: {type(exc).__name__}: {exc}"
        raise InputFileError(field, message) from exc


def has_file_inputs(signature: Signature) -> bool:
    return any(s.type.primitive is not None and s.type.primitive.is_file for s in signature.inputs)


def contains_file(value: object) -> bool:
    if isinstance(value, OutputFile):
        return True
    if isinstance(value, list):
        return any(contains_file(v) for v in value)
    if isinstance(value, dict):
        return any(contains_file(v) for v in value.values())
    return False


FileEncoder = typing.Callable[[OutputFile, str], str]


def resolve_files(value: object, encode: FileEncoder, name: str | None = None) -> object:
    """Replace each OutputFile in ``value`` by ``encode(file, name)``.

    Lists name their files output.<index>.<ext>; a single file keeps its own name.
    """
    if isinstance(value, OutputFile):
        return encode(value, name or os.path.basename(value.path))
    if isinstance(value, list):
        return [resolve_files(v, encode, _indexed(v, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: resolve_files(v, encode) for k, v in value.items()}
    return value


def _indexed(value: object, index: int) -> str | None:
    if not isinstance(value, OutputFile):
        return None
    return f"output.{index}{pathlib.PurePath(value.path).suffix}"


def data_url(file: OutputFile, name: str) -> str:
    data = pathlib.Path(file.path).read_bytes()
    _cleanup(file)
    media = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


@dataclass(frozen=True)
class Uploader:
    prefix: str
    timeout: float

    def __call__(self, file: OutputFile, name: str) -> str:
        target = self.prefix if self.prefix.endswith("/") else self.prefix + "/"
        url = target + urllib.parse.quote(name)
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        import requests  # noqa: PLC0415

        timeout = (min(self.timeout, _net.OUTBOUND_CONNECT_TIMEOUT), self.timeout)
        with deadline_in_thread(self.timeout) as abort:
            try:
                with open(file.path, "rb") as handle, session() as sess:
                    response = sess.put(url, files={"file": (name, handle, media)}, timeout=timeout)
                    response.close()
            except (OSError, requests.RequestException) as exc:
                reason = f"not done within {self.timeout:g}s" if abort.aborted else str(exc)
                raise UploadError(f"uploading {name} to {shown_url(url)} failed: {reason}") from exc
            finally:
                _cleanup(file)
            if abort.aborted:  # a cut connection can look like a short, complete answer
                reason = f"not done within {self.timeout:g}s"
                raise UploadError(f"uploading {name} to {shown_url(url)} failed: {reason}")
        if response.status_code >= 400:
            raise UploadError(f"uploading {name} to {url} failed: HTTP {response.status_code}")
        location = response.headers.get("Location")
        final = urllib.parse.urljoin(response.url, location) if location else response.url
        return urllib.parse.urlsplit(final)._replace(query="").geturl()


def _cleanup(file: OutputFile) -> None:
    # The reference deletes returned files once sent. Which may go, the worker decided
    # (runtime/worker/_encode.py): its own copies and temp files, never a file of the project.
    if not file.remove:
        return
    pathlib.Path(file.path).unlink(missing_ok=True)
    directory = os.path.dirname(file.path)
    if os.path.basename(directory).startswith(SPILL_PREFIX):  # the worker's own mkdtemp()
        try:
            os.rmdir(directory)
        except OSError:
            return
