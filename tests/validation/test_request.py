"""The request as a whole: missing and unknown fields, order of entries, defaults,
non-object input, request-level errors and the CLI's rendering."""

from __future__ import annotations

import json

import pytest

from cog._sdk.value_types import Secret
from cog._signature.model import MISSING, InputSpec, Primitive
from cog._signature.validate import (
    InputValidationError,
    InputValidator,
    ValidationIssue,
    body_not_object,
    invalid_json_body,
    render_issues,
    request_validation_error,
    validate_input,
)
from cog.errors import CogError
from tests.validation._bodies import body, detail, rejection
from tests.validation._signatures import (
    BOOL,
    FLOAT,
    INT,
    PATH,
    SECRET,
    STR,
    list_of,
    optional,
    signature,
)


def missing(name: str) -> str:
    return detail(f'"{name}"', '"Field required"', "value_error.missing")


PROMPTS = signature(
    InputSpec("prompt", STR),
    InputSpec("steps", INT, 20, ge=1),
    InputSpec("scale", FLOAT, 7.5),
    InputSpec("negative", STR),
    InputSpec("upscale", BOOL, False),
)


@pytest.mark.unit
def test_missing_required_field_is_the_contract_body() -> None:
    sig = signature(InputSpec("prompt", STR))
    assert rejection(sig, {}) == (
        b'{"detail":[{"loc":["body","input","prompt"],"msg":"Field required",'
        b'"type":"value_error.missing"}]}'
    )


@pytest.mark.unit
def test_missing_fields_come_in_signature_order() -> None:
    sig = signature(InputSpec("r2", STR), InputSpec("r1", STR))
    assert rejection(sig, {}) == body(missing("r2"), missing("r1"))


@pytest.mark.unit
def test_wrong_fields_sorted_by_name_then_missing_ones() -> None:
    # The reference's validator walks properties in sorted order, then "required".
    payload = {"upscale": "yes", "steps": 0, "scale": "big"}
    assert rejection(PROMPTS, payload) == body(
        detail('"scale"', r'"\"big\" is not of type \"number\""'),
        detail('"steps"', '"0 is less than the minimum of 1"'),
        detail('"upscale"', r'"\"yes\" is not of type \"boolean\""'),
        missing("prompt"),
        missing("negative"),
    )


@pytest.mark.unit
def test_one_entry_per_failing_field_and_item() -> None:
    sig = signature(InputSpec("b", list_of(Primitive.INTEGER)), InputSpec("a", STR))
    assert rejection(sig, {"a": 1, "b": [1, "x", "y"]}) == body(
        detail('"a"', r'"1 is not of type \"string\""'),
        detail('"b/1"', r'"\"x\" is not of type \"integer\""'),
        detail('"b/2"', r'"\"y\" is not of type \"integer\""'),
    )


@pytest.mark.unit
def test_unknown_fields_are_ignored() -> None:
    out = validate_input(PROMPTS, {"prompt": "p", "negative": "n", "seed": 3, "zzz": [1]})
    assert "seed" not in out
    assert "zzz" not in out


@pytest.mark.unit
def test_defaults_are_filled_in_signature_order() -> None:
    out = validate_input(PROMPTS, {"negative": "n", "prompt": "p"})
    assert list(out.items()) == [
        ("prompt", "p"),
        ("steps", 20),
        ("scale", 7.5),
        ("negative", "n"),
        ("upscale", False),
    ]


@pytest.mark.unit
def test_defaults_take_the_declared_type_and_are_fresh_each_time() -> None:
    sig = signature(
        InputSpec("f", FLOAT, 1),
        InputSpec("tags", list_of(Primitive.STRING), ("a", "b")),
        InputSpec("token", SECRET, "default-token"),
        InputSpec("weights", PATH, "weights/model.bin"),  # local default: the model's business
    )
    first = validate_input(sig, {})
    assert first["f"] == 1.0
    assert type(first["f"]) is float
    assert first["tags"] == ["a", "b"]
    assert isinstance(first["token"], Secret)
    assert first["token"].get_secret_value() == "default-token"
    assert first["weights"] == "weights/model.bin"
    assert isinstance(first["tags"], list)
    first["tags"].append("mutated")
    assert validate_input(sig, {})["tags"] == ["a", "b"]


@pytest.mark.unit
def test_optional_without_default_is_not_required() -> None:
    sig = signature(InputSpec("seed", optional(Primitive.INTEGER), MISSING))
    assert validate_input(sig, {}) == {"seed": None}


@pytest.mark.unit
@pytest.mark.parametrize("payload", [None, {}])
def test_absent_or_null_input_is_an_empty_object(payload: object) -> None:
    assert rejection(PROMPTS, payload) == body(missing("prompt"), missing("negative"))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("payload", "shown"),
    [([], "[]"), ("x", r"\"x\""), (5, "5"), (True, "true")],
)
def test_input_that_is_not_an_object(payload: object, shown: str) -> None:
    expected = body(detail('"__root__"', f'"{shown} is not of type \\"object\\""'))
    assert rejection(PROMPTS, payload) == expected


@pytest.mark.unit
def test_issues_and_error_type() -> None:
    with pytest.raises(InputValidationError) as caught:
        validate_input(PROMPTS, {"prompt": 1})
    error = caught.value
    assert isinstance(error, CogError)
    assert error.issues == (
        ValidationIssue(("body", "input", "prompt"), '1 is not of type "string"', "value_error"),
        ValidationIssue(("body", "input", "negative"), "Field required", "value_error.missing"),
    )
    assert "prompt: 1 is not of type" in str(error)


@pytest.mark.unit
def test_render_issues_for_the_cli() -> None:
    issues = (
        ValidationIssue(("body", "input", "prompt"), "Field required", "value_error.missing"),
        ValidationIssue(("body", "input", "tags/2"), '3 is not of type "string"', "value_error"),
        ValidationIssue(("body", "input", "__root__"), '[] is not of type "object"', "x"),
        ValidationIssue(("body", 0), "JSON decode error: Expecting value", "x"),
    )
    assert render_issues(issues) == (
        "prompt: Field required\n"
        'tags/2: 3 is not of type "string"\n'
        'input: [] is not of type "object"\n'
        "request body: JSON decode error: Expecting value"
    )


@pytest.mark.unit
def test_request_level_errors() -> None:
    error = request_validation_error(("body", "input"), "Input should be an object", "type_error")
    assert error.body() == (
        b'{"detail":[{"loc":["body","input"],"msg":"Input should be an object",'
        b'"type":"type_error"}]}'
    )
    with pytest.raises(json.JSONDecodeError) as parse_error:
        json.loads('{"input": ')
    assert invalid_json_body(parse_error.value).body() == (
        b'{"detail":[{"loc":["body",10],"msg":"JSON decode error: Expecting value",'
        b'"type":"value_error.jsondecode"}]}'
    )
    assert body_not_object([1, 2]).body() == (
        b'{"detail":[{"loc":["body"],"msg":"[1,2] is not of type \\"object\\"",'
        b'"type":"value_error"}]}'
    )


@pytest.mark.unit
def test_body_keeps_unicode_and_escapes_lone_surrogates() -> None:
    sig = signature(InputSpec("x", INT))
    assert rejection(sig, {"x": "é"}) == body(detail('"x"', r'"\"é\" is not of type \"integer\""'))
    got = rejection(sig, {"x": "\ud800"})
    got.decode("utf-8")  # still valid UTF-8


@pytest.mark.unit
def test_compiled_validator_is_reusable() -> None:
    validator = InputValidator(PROMPTS)
    for steps in (1, 2, 3):
        out = validator.validate({"prompt": "p", "negative": "n", "steps": steps})
        assert out["steps"] == steps
    with pytest.raises(InputValidationError):
        validator.validate({"prompt": "p"})
