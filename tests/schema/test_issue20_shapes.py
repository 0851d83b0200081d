"""Issue 20's schema items, each as the reference writes it, read by both readers.

The models are tests/fixtures/sdk/edge_cases.py's (test_readers_agree checks the two
readers give equal signatures there); here each item's document shape is pinned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cog._signature.introspect import load_entrypoint, signature_of
from cog._signature.model import Mode, Signature
from cog._signature.openapi import openapi_document
from cog._signature.static import signature_from_source
from cog._signature.validate import InputValidationError, validate_input

from .test_readers_agree import SDK_FIXTURES, isolated_imports

__all__ = ["isolated_imports"]  # the fixture, used by `read`

_REF = "#/components/schemas/"


@pytest.fixture(params=["static", "introspected"])
def read(request: pytest.FixtureRequest, isolated_imports: None) -> Callable[[str], Signature]:
    def reader(name: str) -> Signature:
        ref = f"edge_cases.py:{name}"
        if request.param == "static":
            return signature_from_source(SDK_FIXTURES, ref, Mode.PREDICT)
        return signature_of(load_entrypoint(SDK_FIXTURES, ref), Mode.PREDICT)

    return reader


def _schemas(sig: Signature) -> dict[str, Any]:
    schemas: dict[str, Any] = openapi_document(sig, None)["components"]["schemas"]
    return schemas


@pytest.mark.unit
def test_literal_inputs_are_enums_and_validated(read: Any) -> None:
    sig = read("AcceptedLiteralInputs")
    schemas = _schemas(sig)
    assert schemas["mode"] == {
        "title": "mode",
        "description": "An enumeration.",
        "enum": ["fast", "slow"],
        "type": "string",
    }
    assert schemas["n"]["enum"] == [1, 2, 4]
    assert schemas["n"]["type"] == "integer"
    mode = schemas["Input"]["properties"]["mode"]
    assert mode == {"x-order": 0, "allOf": [{"$ref": f"{_REF}mode"}], "default": "fast"}
    assert schemas["Input"]["required"] == ["level"]
    assert validate_input(sig, {"level": "a", "n": 2}) == {"mode": "fast", "n": 2, "level": "a"}
    with pytest.raises(InputValidationError) as caught:
        validate_input(sig, {"level": "c"})
    assert [issue.msg for issue in caught.value.issues] == ['"c" is not one of ["a","b"]']


@pytest.mark.unit
def test_optional_and_union_outputs(read: Any) -> None:
    assert _schemas(read("AcceptedOptionalOutput"))["Output"] == {
        "type": "string",
        "nullable": True,
        "title": "Output",
    }
    assert _schemas(read("AcceptedUnionOutput"))["Output"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}],
        "nullable": True,
        "title": "Output",
    }
    schemas = _schemas(read("AcceptedUnionOfModelAndList"))
    assert schemas["Output"] == {
        "anyOf": [{"$ref": f"{_REF}Scored"}, {"type": "array", "items": {"type": "string"}}],
        "title": "Output",
    }


@pytest.mark.unit
def test_keyword_only_inputs_are_inputs_and_kwargs_is_not(read: Any) -> None:
    sig = read("AcceptedKeywordOnlyAndKwargs")
    assert [spec.name for spec in sig.inputs] == ["prompt", "steps", "seed"]
    properties = _schemas(sig)["Input"]["properties"]
    assert properties["steps"] == {"x-order": 1, "title": "Steps", "type": "integer", "default": 4}


@pytest.mark.unit
def test_iterator_of_model_lists(read: Any) -> None:
    assert _schemas(read("AcceptedIteratorOfModelLists"))["Output"] == {
        "type": "array",
        "items": {"type": "array", "items": {"$ref": f"{_REF}Scored"}},
        "x-cog-array-type": "iterator",
        "title": "Output",
    }


@pytest.mark.unit
def test_typed_dict_outputs_have_their_keys(read: Any) -> None:
    schemas = _schemas(read("AcceptedTypedDictOutput"))
    assert schemas["Output"] == {"$ref": f"{_REF}Message"}
    assert schemas["Message"] == {
        "title": "Message",
        "type": "object",
        "properties": {"role": {"type": "string", "title": "Role"}},
        "required": ["role"],
    }
    partial = _schemas(read("AcceptedPartialTypedDictList"))["PartialMessage"]
    assert set(partial["properties"]) == {"role", "content"}
    assert "required" not in partial  # total=False


@pytest.mark.unit
def test_model_outputs_are_referenced_components_with_defaults(read: Any) -> None:
    schemas = _schemas(read("AcceptedModelWithDefaults"))
    assert schemas["Output"] == {"$ref": f"{_REF}Scored"}
    assert schemas["Scored"] == {
        "title": "Scored",
        "type": "object",
        "properties": {
            "label": {"type": "string", "title": "Label"},
            "score": {"type": "number", "title": "Score", "default": 0.5},
            "note": {"type": "string", "nullable": True, "title": "Note"},
        },
        "required": ["label"],
    }
    optional = _schemas(read("AcceptedOptionalModelOutput"))
    assert optional["Output"] == {"$ref": f"{_REF}Derived", "nullable": True}
    assert "required" not in optional["Derived"]  # every field has a default


@pytest.mark.unit
def test_accept_is_x_cog_accept(read: Any) -> None:
    sig = read("AcceptedAccept")
    properties = _schemas(sig)["Input"]["properties"]
    assert properties["image"]["x-cog-accept"] == "image/*"
    assert sig.warnings == (
        "AcceptedAccept.run() input 'text': Input(accept=...) only means something for "
        "Path/File inputs",
    )


@pytest.mark.unit
def test_field_call_defaults(read: Any) -> None:
    pydantic_model = _schemas(read("AcceptedPydanticFieldCallDefaults"))["PydanticFieldDefaults"]
    assert pydantic_model["required"] == ["label"]
    assert pydantic_model["properties"]["steps"]["default"] == 4
    assert pydantic_model["properties"]["scale"]["default"] == 1.5
    assert "default" not in pydantic_model["properties"]["tags"]  # a default_factory
    cog_model = _schemas(read("AcceptedFieldCallDefaults"))["FieldDefaults"]
    assert "required" not in cog_model
    assert cog_model["properties"]["steps"]["default"] == 4
