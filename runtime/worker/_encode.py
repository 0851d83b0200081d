"""Turn what a model returned into JSON-ready values, files marked as OutputFile (worker side)."""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import pathlib
import shutil
import sys
import tempfile
from typing import Any

from cog.runtime._messages import SPILL_PREFIX, OutputFile

_SCALARS = (str, int, float, bool, type(None))
# Ints this wide have fewer digits than any int-to-str limit Python allows (640 at least):
# only wider ones need converting to know whether the server can write them.
_NARROW_INT_BITS = 2000


class OutputEncodingError(ValueError):
    """The model returned something that cannot be written as JSON; fails its prediction."""


def encode_output(value: object) -> object:
    """``value`` as JSON-ready values; OutputEncodingError when JSON cannot hold it."""
    try:
        return _encode(value)
    except RecursionError:
        raise OutputEncodingError(
            "the output cannot be written as JSON: it contains itself (a circular reference)"
            " or is nested too deeply"
        ) from None


def _scalar(value: object) -> object:
    if isinstance(value, str):
        if not value.isascii():
            _check_text(value)
    elif isinstance(value, int) and value.bit_length() > _NARROW_INT_BITS:
        _check_int(value)
    return value


def _check_text(value: str) -> None:
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        bad = ascii(value[exc.start : exc.end])
        raise OutputEncodingError(
            f"the output cannot be written as JSON: a string holds the lone surrogate {bad},"
            " which is not valid Unicode"
        ) from None


def _check_int(value: int) -> None:
    try:
        str(value)
    except ValueError:
        limit = sys.get_int_max_str_digits()
        raise OutputEncodingError(
            f"the output cannot be written as JSON: an integer has more than {limit} digits"
        ) from None


def _encode(value: object) -> object:  # noqa: PLR0911 (one case per kind of value)
    if isinstance(value, _SCALARS):
        return _scalar(value)
    if isinstance(value, pathlib.PurePath):
        path = os.path.abspath(os.fspath(value))  # relative: to the worker's directory
        return OutputFile(path, remove=_removable(path))
    if isinstance(value, io.IOBase):
        return _spill(value)
    if isinstance(value, dict):
        return {_key(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        dumped: Any = model_dump()
        return _encode(dumped)
    if hasattr(type(value), "__fields__") and callable(getattr(value, "dict", None)):
        return _encode(value.dict())  # type: ignore[attr-defined]  # a pydantic 1 model
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _encode(fields)
    if hasattr(value, "get_secret_value"):
        return str(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return _encode(tolist())
    raise TypeError(f"cannot return a value of type {type(value).__name__} from the model")


_KEPT: list[str] = []  # the project directory, whose files are never removed


def keep_files_under(directory: str) -> None:
    """Files the model returns from under ``directory`` (the project) stay where they are."""
    _KEPT[:] = [os.path.realpath(directory)]


def _removable(path: str) -> bool:
    """Whether a returned file may be deleted once sent: a temp file, outside the project.

    As the reference, the runtime removes the temporary files a model returns (they would
    pile up otherwise); a file of the project itself is the model's and stays, even when
    the project lives under the temp dir.
    """
    real = os.path.realpath(path)
    if any(real == kept or real.startswith(kept + os.sep) for kept in _KEPT):
        return False
    temp = os.path.realpath(tempfile.gettempdir())
    return real.startswith(temp + os.sep)


def _key(key: object) -> str:
    text = str(key)
    if not text.isascii():
        _check_text(text)
    return text


def _spill(handle: io.IOBase) -> OutputFile:
    """A file object returned by the model: copy it to a temp file named like it."""
    name = os.path.basename(str(getattr(handle, "name", "") or "")) or "output"
    directory = tempfile.mkdtemp(prefix=SPILL_PREFIX)
    path = os.path.join(directory, name)
    if hasattr(handle, "seek") and handle.seekable():
        handle.seek(0)
    with open(path, "wb") as target:
        if isinstance(handle, io.TextIOBase):
            target.write(handle.read().encode())
        else:
            shutil.copyfileobj(handle, target)
    return OutputFile(path, remove=True)
