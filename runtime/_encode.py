"""Turn what a model returned into JSON-ready values, files marked as OutputFile (worker side)."""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import pathlib
import shutil
import tempfile
from typing import Any

from cog.runtime._messages import OutputFile

_SCALARS = (str, int, float, bool, type(None))


def encode_output(value: object) -> object:  # noqa: PLR0911 (one case per kind of value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, pathlib.PurePath):
        return OutputFile(os.fspath(value))
    if isinstance(value, io.IOBase):
        return _spill(value)
    if isinstance(value, dict):
        return {str(k): encode_output(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode_output(v) for v in value]
    if isinstance(value, enum.Enum):
        return encode_output(value.value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        dumped: Any = model_dump()
        return encode_output(dumped)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return encode_output(fields)
    if hasattr(value, "get_secret_value"):
        return str(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return encode_output(tolist())
    raise TypeError(f"cannot return a value of type {type(value).__name__} from the model")


def _spill(handle: io.IOBase) -> OutputFile:
    """A file object returned by the model: copy it to a temp file named like it."""
    name = os.path.basename(str(getattr(handle, "name", "") or "")) or "output"
    directory = tempfile.mkdtemp(prefix="cog-output-")
    path = os.path.join(directory, name)
    if hasattr(handle, "seek") and handle.seekable():
        handle.seek(0)
    with open(path, "wb") as target:
        if isinstance(handle, io.TextIOBase):
            target.write(handle.read().encode())
        else:
            shutil.copyfileobj(handle, target)
    return OutputFile(path, remove=True)
