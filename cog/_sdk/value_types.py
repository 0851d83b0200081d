"""The SDK's value types: files, secrets, streaming iterators and the Opaque marker."""

from __future__ import annotations

import io
import mimetypes
import os
import pathlib
import shutil
import tempfile
import typing
import urllib.parse
import urllib.request
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from cog._compat import SLOTS

__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "get_filename",
]

REDACTED: Final = "**********"
_FILENAME_MAX_BYTES: Final = 200
_URL_SCHEMES: Final = ("data", "http", "https")


@dataclass(frozen=True, **SLOTS)
class Secret:
    """A string that never shows itself in str(), repr(), f-strings, logs or tracebacks.

    ``slots=True`` so that ``vars()`` cannot expose it either; pickling still works, which
    the runtime needs to hand it to a worker process.
    """

    secret_value: str | None = None

    def __str__(self) -> str:
        return REDACTED if self.secret_value is not None else ""

    def __repr__(self) -> str:
        return f"Secret({self})"

    def get_secret_value(self) -> str | None:
        """The value itself (None for ``Secret()``, as the reference's)."""
        return self.secret_value


def _truncate_filename(filename: str, limit: int = _FILENAME_MAX_BYTES) -> str:
    if len(filename.encode()) <= limit:
        return filename
    stem, ext = os.path.splitext(filename)
    room = limit - len(ext.encode()) - 1
    return stem.encode()[:room].decode(errors="ignore") + "~" + ext


def get_filename(url: str) -> str:
    """A safe local file name for the file a URL (http(s) or data) points at."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "data":
        header = parsed.path.split(",", 1)[0]
        mime = header.split(";", 1)[0] or "text/plain"
        return "file" + (mimetypes.guess_extension(mime) or "")
    name = urllib.parse.unquote_plus(os.path.basename(parsed.path))
    name = name.replace("\x00", "_").replace("/", "_")
    return _truncate_filename(name)


class URLFile(io.IOBase):
    """A read-only file over an http(s) URL, opened on first use and picklable until then."""

    def __init__(self, url: str, filename: str | None = None) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https"):
            raise ValueError("URLFile requires URL to conform to HTTP or HTTPS protocol")
        self.url = url
        self.name = filename or os.path.basename(parsed.path)
        self._response: Any = None

    def _raw(self) -> Any:
        if self._response is None:
            # Imported here, not at module level: `import cog` runs on every worker start
            # and schema fallback, and requests alone costs 50-180 ms there.
            import requests  # noqa: PLC0415

            from cog._sdk.useragent import get_user_agent  # noqa: PLC0415

            headers = {"User-Agent": os.environ.get("COG_USER_AGENT") or get_user_agent()}
            response = requests.get(self.url, stream=True, timeout=10, headers=headers)
            response.raise_for_status()
            response.raw.decode_content = True
            self._response = response.raw
        return self._response

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw().read(None if size < 0 else size)
        return bytes(data)

    def readinto(self, buffer: Any) -> int:
        return int(self._raw().readinto(buffer))

    def __getstate__(self) -> dict[str, str]:
        return {"url": self.url, "name": self.name}

    def __setstate__(self, state: dict[str, str]) -> None:
        self.url = state["url"]
        self.name = state["name"]
        self._response = None

    def __repr__(self) -> str:
        return f"<URLFile for {self.url!r}>"


class File(io.IOBase):
    """Deprecated: use ``Path``. A file-like input or output."""

    @classmethod
    def validate(cls, value: Any) -> io.IOBase:
        """A file object for ``value``: already a file, a data URL, or an http(s) URL."""
        if isinstance(value, io.IOBase):
            return value
        scheme = urllib.parse.urlparse(str(value)).scheme
        if scheme == "data":
            with urllib.request.urlopen(str(value)) as response:  # noqa: S310 (data: only)
                return io.BytesIO(response.read())
        if scheme in ("http", "https"):
            return URLFile(str(value))
        raise ValueError(
            f"'{scheme}' is not a valid URL scheme. 'data', 'http', or 'https' is supported."
        )


class Path(pathlib.PosixPath):
    """A path to a file on disk; inputs given as URLs arrive as local files."""

    @classmethod
    def validate(cls, value: Any) -> pathlib.Path:
        """``value`` as a path; an http(s) or data URL becomes a lazily downloaded URLPath."""
        if isinstance(value, pathlib.Path):
            return value
        text = str(value)
        if urllib.parse.urlparse(text).scheme in _URL_SCHEMES:
            return URLPath(source=text, filename=get_filename(text), fileobj=File.validate(text))
        return cls(text)


class URLPath(pathlib.PosixPath):
    """A URL given as a Path input, downloaded to a temporary file by ``convert()``.

    A PosixPath only so that ``isinstance(x, pathlib.Path)`` holds; ``str()`` is the URL.
    """

    def __new__(cls, *, source: str, filename: str, fileobj: io.IOBase) -> URLPath:
        return super().__new__(cls, _truncate_filename(filename))

    def __init__(self, *, source: str, filename: str, fileobj: io.IOBase) -> None:
        # PosixPath (3.11) takes its segments in __new__; nothing to pass on here.
        self.source = source
        self.filename = _truncate_filename(filename)
        self.fileobj = fileobj
        self._local: Path | None = None

    def convert(self) -> Path:
        """Download to a temporary file (once) and return its path."""
        if self._local is None:
            with tempfile.NamedTemporaryFile(suffix=self.filename, delete=False) as dest:
                shutil.copyfileobj(self.fileobj, dest)
            self._local = Path(dest.name)
        return self._local

    def unlink(self, missing_ok: bool = False) -> None:
        if self._local is not None:
            self._local.unlink(missing_ok=missing_ok)

    def __str__(self) -> str:
        return self.source


Item = TypeVar("Item")


class ConcatenateIterator(typing.Iterator[Item]):
    """A return type hint: streamed chunks that clients should join into one string."""

    @abstractmethod
    def __next__(self) -> Item: ...


class AsyncConcatenateIterator(typing.AsyncIterator[Item]):
    """The async form of ``ConcatenateIterator``."""

    @abstractmethod
    async def __anext__(self) -> Item: ...


class _OpaqueMarker:
    """``Annotated[T, cog.Opaque]``: treat T as an opaque JSON object in the schema."""

    def __repr__(self) -> str:
        return "cog.Opaque"


Opaque: Final = _OpaqueMarker()
