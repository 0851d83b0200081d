"""File inputs (URLs fetched to temp files) and file outputs (data URLs or uploads)."""

from __future__ import annotations

import base64
import mimetypes
import os
import pathlib
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cog.runtime._messages import OutputFile

from cog._signature.model import Signature

if TYPE_CHECKING:
    import requests

_CHUNK = 1 << 16


class InputFileError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _in_temp(path: str) -> bool:
    temp = os.path.realpath(tempfile.gettempdir())
    return os.path.realpath(path).startswith(temp + os.sep)


class UploadError(Exception):
    pass


@dataclass(frozen=True)
class Fetcher:
    user_agent: str
    timeout: float

    def fetch(self, field: str, url: str, directory: str) -> str:
        """Fetch ``url`` into ``directory``; return the local path."""
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        if scheme == "data":
            return self._data_url(field, url, directory)
        if scheme not in ("http", "https"):
            raise InputFileError(field, f"unsupported URL scheme {scheme!r} in {url!r}")
        return self._http(field, url, directory)

    def _data_url(self, field: str, url: str, directory: str) -> str:
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise InputFileError(field, "malformed data URL: no ',' before the data")
        media = header.removesuffix(";base64")
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
        deadline = time.monotonic() + self.timeout
        name = os.path.basename(urllib.parse.urlsplit(url).path) or field
        path = _unique(directory, urllib.parse.unquote(name))
        headers = {"User-Agent": self.user_agent}
        import requests  # noqa: PLC0415 (imported after setup: Application.load_quart)

        try:
            with requests.get(
                url, headers=headers, stream=True, timeout=min(self.timeout, 30.0)
            ) as response:
                if response.status_code >= 400:
                    raise InputFileError(
                        field, f"fetching {url} failed: HTTP {response.status_code}"
                    )
                with open(path, "wb") as out:
                    for chunk in response.iter_content(_CHUNK):
                        out.write(chunk)
                        if time.monotonic() > deadline:
                            raise InputFileError(
                                field, f"fetching {url} took longer than {self.timeout:g}s"
                            )
        except requests.RequestException as exc:
            raise InputFileError(field, f"fetching {url} failed: {_reason(exc)}") from exc
        return path


def _reason(exc: requests.RequestException) -> str:
    import requests  # noqa: PLC0415

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return type(exc).__name__


def _unique(directory: str, name: str) -> str:
    name = name.replace("/", "_")[-200:] or "input"
    path = os.path.join(directory, name)
    counter = 0
    while os.path.exists(path):
        counter += 1
        path = os.path.join(directory, f"{counter}-{name}")
    return path


def fetch_inputs(
    signature: Signature, kwargs: dict[str, object], fetcher: Fetcher, directory: str
) -> dict[str, object]:
    """kwargs with every file input (a URL) replaced by the path of its local copy."""
    result = dict(kwargs)
    for spec in signature.inputs:
        primitive = spec.type.primitive
        value = result.get(spec.name)
        if primitive is None or not primitive.is_file or value is None:
            continue
        if isinstance(value, list):
            result[spec.name] = [fetcher.fetch(spec.name, str(v), directory) for v in value]
        else:
            result[spec.name] = fetcher.fetch(spec.name, str(value), directory)
    return result


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


FileEncoder = Callable[[OutputFile, str], str]


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

        try:
            with open(file.path, "rb") as handle:
                response = requests.put(
                    url, files={"file": (name, handle, media)}, timeout=self.timeout
                )
        except (OSError, requests.RequestException) as exc:
            raise UploadError(f"uploading {name} to {url} failed: {exc}") from exc
        finally:
            _cleanup(file)
        if response.status_code >= 400:
            raise UploadError(f"uploading {name} to {url} failed: HTTP {response.status_code}")
        location = response.headers.get("Location")
        final = urllib.parse.urljoin(response.url, location) if location else response.url
        return urllib.parse.urlsplit(final)._replace(query="").geturl()


def _cleanup(file: OutputFile) -> None:
    # The reference deletes returned files once sent; only ever ours or temporary ones.
    if file.remove or _in_temp(file.path):
        pathlib.Path(file.path).unlink(missing_ok=True)
    if file.remove:  # the directory is the worker's own mkdtemp()
        try:
            os.rmdir(os.path.dirname(file.path))
        except OSError:
            return
