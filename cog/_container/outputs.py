"""Turning a finished prediction into what `cog run` prints and writes."""

from __future__ import annotations

import base64
import binascii
import json
import mimetypes
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cog.errors import RunError


@dataclass(frozen=True)
class Rendered:
    text: str | None  # printed to stdout
    written: tuple[Path, ...]  # files written to disk


def render_prediction(
    prediction: dict[str, Any],
    output_path: Path | None,
    *,
    concatenate: bool = False,
) -> Rendered:
    status = prediction.get("status")
    if status != "succeeded":
        error = prediction.get("error") or f"the prediction ended {status}"
        logs = (prediction.get("logs") or "").rstrip()
        detail = f"\n{logs}" if logs else ""
        raise RunError(f"prediction failed: {error}{detail}")
    output = prediction.get("output")
    files = _file_outputs(output)
    if files is not None:
        return Rendered(text=None, written=_write_files(files, output_path))
    if concatenate and isinstance(output, list) and all(isinstance(x, str) for x in output):
        output = "".join(output)
    written: list[Path] = []
    if isinstance(output, dict | list):
        # Files inside an object (a BaseModel output): saved beside the others, and the JSON
        # printed names where, instead of pages of base64.
        output = _save_nested(output, "output", output_path, written)
    if written:
        text = json.dumps(output, indent=2)
        return Rendered(text=text, written=tuple(written))
    text = output if isinstance(output, str) else json.dumps(output, indent=2)
    if output_path is not None:
        output_path.write_text(text + ("" if text.endswith("\n") else "\n"))
        return Rendered(text=None, written=(output_path,))
    return Rendered(text=text, written=())


def _save_nested(value: Any, name: str, output_path: Path | None, written: list[Path]) -> Any:
    if isinstance(value, str) and value.startswith("data:"):
        media_type, data = decode_data_url(value)
        extension = mimetypes.guess_extension(media_type or "") or ""
        folder = output_path if output_path is not None and output_path.is_dir() else Path()
        target = folder / f"{name}{extension}"
        try:
            target.write_bytes(data)
        except OSError as exc:
            raise RunError(f"cannot write the output to {target}: {exc.strerror}") from exc
        written.append(target)
        return str(target)
    if isinstance(value, dict):
        return {k: _save_nested(v, f"{name}.{k}", output_path, written) for k, v in value.items()}
    if isinstance(value, list):
        return [_save_nested(v, f"{name}.{i}", output_path, written) for i, v in enumerate(value)]
    return value


def _file_outputs(output: Any) -> list[str] | None:
    if isinstance(output, str) and output.startswith("data:"):
        return [output]
    if (
        isinstance(output, list)
        and output
        and all(isinstance(x, str) and x.startswith("data:") for x in output)
    ):
        return list(output)
    return None


def _write_files(urls: list[str], output_path: Path | None) -> tuple[Path, ...]:
    written = []
    for index, url in enumerate(urls):
        media_type, data = decode_data_url(url)
        extension = mimetypes.guess_extension(media_type or "") or ""
        name = f"output{extension}" if len(urls) == 1 else f"output.{index}{extension}"
        if output_path is None:
            target = Path(name)
        elif output_path.is_dir():
            target = output_path / name
        elif len(urls) == 1:
            target = output_path
        else:
            target = output_path.with_name(f"{output_path.stem}.{index}{output_path.suffix}")
        try:
            target.write_bytes(data)
        except OSError as exc:
            raise RunError(f"cannot write the output to {target}: {exc.strerror}") from exc
        written.append(target)
    return tuple(written)


def decode_data_url(url: str) -> tuple[str, bytes]:
    header, sep, payload = url.partition(",")
    if not sep or not header.startswith("data:"):
        raise RunError(f"the model returned a malformed data URL ({url[:40]}...)")
    params = header[len("data:") :].split(";")
    media_type = params[0] or "text/plain"
    try:
        if "base64" in params[1:]:
            return media_type, base64.b64decode(payload, validate=True)
    except binascii.Error as exc:
        raise RunError(f"the model returned a data URL that is not valid base64: {exc}") from exc
    return media_type, urllib.parse.unquote_to_bytes(payload)
