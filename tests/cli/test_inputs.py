"""-i name=value, -i name=@file, repeated names, --json @file|@-|inline."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest

from cog.cli._input_flags import (
    FileInput,
    check_image_argument,
    collect_inputs,
    input_payload,
    parse_input_flags,
    parse_json_inputs,
)
from cog.errors import CogError


@pytest.mark.unit
def test_values_stay_strings_and_split_on_the_first_equals(tmp_path: Path) -> None:
    assert parse_input_flags(["prompt=a=b c", "steps=20", "empty="], cwd=tmp_path) == {
        "prompt": "a=b c",
        "steps": "20",
        "empty": "",
    }


@pytest.mark.unit
def test_at_reads_a_file_and_repeated_names_make_a_list(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text("one")
    (tmp_path / "2.txt").write_text("two")
    inputs = parse_input_flags(["paths=@1.txt", "paths=@2.txt", "paths=three"], cwd=tmp_path)
    assert inputs == {
        "paths": [FileInput(tmp_path / "1.txt"), FileInput(tmp_path / "2.txt"), "three"]
    }
    assert input_payload(inputs) == {
        "paths": [
            "data:text/plain;base64," + base64.b64encode(b"one").decode(),
            "data:text/plain;base64," + base64.b64encode(b"two").decode(),
            "three",
        ]
    }


@pytest.mark.unit
def test_unknown_media_type_is_octet_stream(tmp_path: Path) -> None:
    (tmp_path / "blob").write_bytes(b"\x00\x01")
    payload = input_payload(parse_input_flags(["x=@blob"], cwd=tmp_path))
    assert payload == {"x": "data:application/octet-stream;base64,AAE="}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("flag", "message", "hint"),
    [
        (
            "prompt",
            "-i 'prompt' is not in the form name=value",
            'For example: -i prompt="a photo of a cat" -i image=@photo.jpg',
        ),
        (
            "=x",
            "-i '=x' is not in the form name=value",
            'For example: -i prompt="a photo of a cat" -i image=@photo.jpg',
        ),
        (
            "image=@missing.jpg",
            "-i image: file 'missing.jpg' does not exist",
            "Give the path of a file after @ (relative to the current directory).",
        ),
        (
            "image=@sub",
            "-i image: file 'sub' is a directory",
            "Give the path of a file after @ (relative to the current directory).",
        ),
    ],
)
def test_bad_flags(tmp_path: Path, flag: str, message: str, hint: str) -> None:
    (tmp_path / "sub").mkdir()
    with pytest.raises(CogError) as info:
        parse_input_flags([flag], cwd=tmp_path)
    assert (info.value.message, info.value.hint) == (message, hint)


@pytest.mark.unit
def test_json_from_file_with_at_files(tmp_path: Path) -> None:
    (tmp_path / "cat.jpg").write_bytes(b"jpg")
    (tmp_path / "in.json").write_text(
        '{"prompt": "a cat", "steps": 20, "image": "@cat.jpg", "imgs": ["@cat.jpg", 1],'
        ' "nested": {"k": "@not-a-file"}}'
    )
    assert parse_json_inputs("@in.json", cwd=tmp_path) == {
        "prompt": "a cat",
        "steps": 20,
        "image": FileInput(tmp_path / "cat.jpg"),
        "imgs": [FileInput(tmp_path / "cat.jpg"), 1],
        "nested": {"k": "@not-a-file"},
    }


@pytest.mark.unit
def test_json_from_stdin_and_inline(tmp_path: Path) -> None:
    assert parse_json_inputs("@-", stdin=io.StringIO('{"a": [1, 2]}'), cwd=tmp_path) == {
        "a": [1, 2]
    }
    assert parse_json_inputs('{"b": true}', cwd=tmp_path) == {"b": True}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("spec", "stdin", "message"),
    [
        ("@-", "[1]", "--json: stdin must hold a JSON object of inputs, got list"),
        (
            "@-",
            '{"a": }',
            "--json: stdin is not valid JSON: Expecting value at line 1, column 7",
        ),
        ("@nope.json", "", "--json: file 'nope.json' does not exist"),
    ],
)
def test_bad_json(tmp_path: Path, spec: str, stdin: str, message: str) -> None:
    with pytest.raises(CogError) as info:
        parse_json_inputs(spec, stdin=io.StringIO(stdin), cwd=tmp_path)
    assert info.value.message == message


@pytest.mark.unit
def test_flags_and_json_are_exclusive() -> None:
    with pytest.raises(CogError) as info:
        collect_inputs(["a=1"], "@-", stdin=io.StringIO("{}"))
    assert info.value.message == "-i and --json were both given"
    assert collect_inputs([], "@-", stdin=io.StringIO('{"z": 1}')) == {"z": 1}


@pytest.mark.unit
def test_forgotten_dash_i_is_detected() -> None:
    with pytest.raises(CogError) as info:
        check_image_argument("prompt=hello")
    assert str(info.value) == (
        "'prompt=hello' looks like an input, not an image name\n"
        "Pass inputs with -i: cog run -i prompt=hello"
    )
    check_image_argument("my-registry.example:5000/me/model:v1")
    check_image_argument(None)
