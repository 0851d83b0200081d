from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from cog._container.outputs import decode_data_url, render_prediction
from cog.errors import RunError

pytestmark = pytest.mark.unit


def _data_url(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def test_string_output_is_printed() -> None:
    rendered = render_prediction({"status": "succeeded", "output": "hello"}, None)
    assert rendered.text == "hello"
    assert rendered.written == ()


def test_json_output_is_pretty_printed() -> None:
    rendered = render_prediction({"status": "succeeded", "output": {"a": [1, 2]}}, None)
    assert rendered.text == '{\n  "a": [\n    1,\n    2\n  ]\n}'


def test_concatenate_iterator_output_is_joined() -> None:
    body = {"status": "succeeded", "output": ["The ", "quick ", "fox"]}
    assert render_prediction(body, None, concatenate=True).text == "The quick fox"
    assert render_prediction(body, None).text is not None


def test_file_output_is_written_with_its_extension(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    body = {"status": "succeeded", "output": _data_url(b"\x89PNG", "image/png")}
    rendered = render_prediction(body, None)
    assert rendered.written == (Path("output.png"),)
    assert (tmp_path / "output.png").read_bytes() == b"\x89PNG"


def test_file_list_output_is_numbered_after_the_output_path(tmp_path: Path) -> None:
    body = {
        "status": "succeeded",
        "output": [_data_url(b"a", "text/plain"), _data_url(b"b", "text/plain")],
    }
    rendered = render_prediction(body, tmp_path / "out.txt")
    assert [p.name for p in rendered.written] == ["out.0.txt", "out.1.txt"]
    assert (tmp_path / "out.1.txt").read_bytes() == b"b"


def test_files_inside_an_object_are_saved_and_the_json_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    output = {"text": "hi", "file": _data_url(b"model", "text/plain"), "n": [1]}
    rendered = render_prediction({"status": "succeeded", "output": output}, None)
    assert rendered.written == (Path("output.file.txt"),)
    assert (tmp_path / "output.file.txt").read_bytes() == b"model"
    assert rendered.text is not None
    assert json.loads(rendered.text) == {"text": "hi", "file": "output.file.txt", "n": [1]}
    assert rendered.text.startswith('{\n  "text": "hi",')


def test_failed_prediction_raises_with_error_and_logs() -> None:
    body = {"status": "failed", "error": "boom", "logs": "line 1\n"}
    with pytest.raises(RunError, match="prediction failed: boom\nline 1"):
        render_prediction(body, None)


def test_data_url_decoding() -> None:
    assert decode_data_url("data:application/json;base64,eyJ4IjogMX0=") == (
        "application/json",
        b'{"x": 1}',
    )
    assert decode_data_url("data:,a%20b") == ("text/plain", b"a b")
