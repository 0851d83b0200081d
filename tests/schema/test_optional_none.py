"""Inputs with a None default, of every type: optional in the schema and in validation.

`extra: File = Input(default=None)` is how published models write an optional input; the
schema lists it optional with no "default" (the reference never writes "default": null),
Optional[T] adds "nullable": true, and leaving it out or sending null gives predict() None.
"""

from __future__ import annotations

import json

import pytest

from cog._signature.model import Mode
from cog._signature.openapi import openapi_document
from cog._signature.static import signature_from_source
from cog._signature.validate import InputValidationError, validate_input

from ._fixtures import MODELS, load_json

PROJECT = MODELS / "optional_none"
NONE_DEFAULTS = (
    "extra", "image", "api_key", "negative", "seed", "scale", "tags", "mask", "steps", "names"
)  # fmt: skip


@pytest.mark.unit
def test_schema_bytes() -> None:
    signature = signature_from_source(PROJECT, "run.py:Runner", Mode.PREDICT)
    schemas = openapi_document(signature, None)["components"]["schemas"]
    expected = load_json(PROJECT / "expected.json")["schemas"]
    # Byte for byte as the label carries it: key order included.
    assert json.dumps(schemas["Input"]) == json.dumps(expected["Input"])
    assert '"default": null' not in json.dumps(schemas)


@pytest.mark.unit
def test_left_out_or_null_is_none() -> None:
    signature = signature_from_source(PROJECT, "run.py:Runner", Mode.PREDICT)
    expected = {"prompt": "a cat", **dict.fromkeys(NONE_DEFAULTS)}
    assert validate_input(signature, {"prompt": "a cat"}) == expected
    explicit = {"prompt": "a cat", **dict.fromkeys(NONE_DEFAULTS)}
    assert validate_input(signature, explicit) == expected


@pytest.mark.unit
def test_a_wrong_value_is_still_refused() -> None:
    signature = signature_from_source(PROJECT, "run.py:Runner", Mode.PREDICT)
    with pytest.raises(InputValidationError) as info:
        validate_input(signature, {"prompt": "a cat", "seed": "seven"})
    assert [issue.loc for issue in info.value.issues] == [("body", "input", "seed")]
    with pytest.raises(InputValidationError) as info:
        validate_input(signature, {})
    assert [issue.loc for issue in info.value.issues] == [("body", "input", "prompt")]
