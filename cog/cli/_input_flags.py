"""Prediction inputs from the command line: ``-i name=value``, ``-i name=@file``, ``--json``.

Values stay strings: the model's schema decides their types (validation coerces "2" to 2
for an int input, as the reference does). Files stay ``FileInput`` until
``input_payload`` turns them into data URLs, the form the runtime accepts.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cog.errors import CogError

_EXAMPLES = 'For example: -i prompt="a photo of a cat" -i image=@photo.jpg'


@dataclass(frozen=True)
class FileInput:
    """A local file given with ``@``; sent to the model as a data URL."""

    path: Path


def parse_input_flags(values: Sequence[str], cwd: Path | None = None) -> dict[str, Any]:
    """``-i`` flags as a mapping; a name given more than once becomes a list, in order."""
    base = Path.cwd() if cwd is None else cwd
    out: dict[str, Any] = {}
    for text in values:
        name, sep, raw = text.partition("=")
        if not sep or not name.strip():
            raise CogError(f"-i '{text}' is not in the form name=value", _EXAMPLES)
        value: Any = _file(base, raw[1:], f"-i {name}") if raw.startswith("@") else raw
        if name not in out:
            out[name] = value
        elif isinstance(out[name], list):
            out[name].append(value)
        else:
            out[name] = [out[name], value]
    return out


def parse_json_inputs(
    spec: str, stdin: IO[str] | None = None, cwd: Path | None = None
) -> dict[str, Any]:
    """``--json @inputs.json``, ``--json @-`` (stdin) or ``--json '{...}'``.

    String values starting with ``@`` (at the top level or in a top-level list) are files.
    """
    base = Path.cwd() if cwd is None else cwd
    origin, text = _json_text(spec, stdin, base)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CogError(
            f"--json: {origin} is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}",
            'Pass a JSON object of inputs, for example: {"prompt": "a cat", "image": "@cat.jpg"}',
        ) from None
    if not isinstance(data, dict):
        raise CogError(
            f"--json: {origin} must hold a JSON object of inputs, got {type(data).__name__}",
            'For example: {"prompt": "a cat", "steps": 20}',
        )
    return {name: _json_value(value, base, name) for name, value in data.items()}


def collect_inputs(
    input_flags: Sequence[str], json_spec: str | None, stdin: IO[str] | None = None
) -> dict[str, Any]:
    """The inputs of `cog run`/`predict`/`train`: -i flags or --json, not both."""
    if json_spec is not None and input_flags:
        raise CogError(
            "-i and --json were both given",
            "Pass every input one way: either -i name=value flags or one --json object.",
        )
    if json_spec is not None:
        return parse_json_inputs(json_spec, stdin)
    return parse_input_flags(input_flags)


def check_image_argument(image: str | None) -> None:
    """`cog run prompt=hello` forgot the -i: say so instead of looking for an image."""
    if image is not None and "=" in image and "/" not in image.partition("=")[0]:
        raise CogError(
            f"'{image}' looks like an input, not an image name",
            f"Pass inputs with -i: cog run -i {image}",
        )


def input_payload(inputs: dict[str, Any]) -> dict[str, Any]:
    """The JSON ``input`` object: files become data URLs."""
    return {name: _encode(value) for name, value in inputs.items()}


def _encode(value: Any) -> Any:
    if isinstance(value, FileInput):
        data = value.path.read_bytes()
        media_type = mimetypes.guess_type(value.path.name)[0] or "application/octet-stream"
        return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
    if isinstance(value, list):
        return [_encode(item) for item in value]
    return value


def _file(base: Path, name: str, flag: str) -> FileInput:
    path = base / name
    if not name or not path.is_file():
        what = "is a directory" if path.is_dir() and name else "does not exist"
        raise CogError(
            f"{flag}: file '{name}' {what}",
            "Give the path of a file after @ (relative to the current directory).",
        )
    return FileInput(path)


def _json_text(spec: str, stdin: IO[str] | None, base: Path) -> tuple[str, str]:
    if spec == "@-":
        return "stdin", (stdin or sys.stdin).read()
    if spec.startswith("@"):
        path = base / spec[1:]
        try:
            return spec[1:], path.read_text(encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            raise CogError(
                f"--json: file '{spec[1:]}' does not exist",
                "Pass @FILE with a JSON object of inputs, or @- to read it from stdin.",
            ) from None
    return "the argument", spec


def _json_value(value: Any, base: Path, name: str) -> Any:
    if isinstance(value, str) and value.startswith("@"):
        return _file(base, value[1:], f"--json {name}")
    if isinstance(value, list):
        return [_json_value(item, base, name) if isinstance(item, str) else item for item in value]
    return value
