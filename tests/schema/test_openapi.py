"""Rendering details that the fixture models do not reach."""

from __future__ import annotations

import json

import pytest

from cog._signature.model import (
    FieldType,
    InputSpec,
    Mode,
    ModelSpec,
    OutputKind,
    OutputSpec,
    Primitive,
    Signature,
)
from cog._signature.openapi import openapi_document, title_case

STRING = FieldType(primitive=Primitive.STRING)


def signature(
    *inputs: InputSpec, output: OutputSpec | None = None, mode: Mode = Mode.PREDICT
) -> Signature:
    return Signature(mode=mode, inputs=inputs, output=output or OutputSpec(STRING))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "title"),
    [("prompt", "Prompt"), ("num_steps", "Num Steps"), ("myURL", "MyURL"), ("x2y", "X2y")],
)
def test_titles_change_only_first_letters(name: str, title: str) -> None:
    assert title_case(name) == title


@pytest.mark.unit
def test_bounds_are_written_as_the_reference_writes_them() -> None:
    spec = InputSpec("n", FieldType(primitive=Primitive.FLOAT), ge=1.0, le=2.5)
    text = json.dumps(openapi_document(signature(spec), None)["components"]["schemas"]["Input"])
    assert '"minimum": 1,' in text
    assert '"maximum": 2.5' in text


@pytest.mark.unit
def test_nested_models_and_lists_of_models_are_inlined() -> None:
    inner = ModelSpec("Box", (("x", FieldType(primitive=Primitive.INTEGER)),))
    outer = ModelSpec(
        "Result",
        (
            ("boxes", FieldType(model=inner, is_list=True)),
            ("best", FieldType(model=inner, nullable=True)),
        ),
    )
    document = openapi_document(signature(output=OutputSpec(FieldType(model=outer))), None)
    box = {
        "type": "object",
        "properties": {"x": {"type": "integer", "title": "X"}},
        "required": ["x"],
    }
    assert document["components"]["schemas"]["Output"] == {
        "title": "Output",
        "type": "object",
        "properties": {
            "boxes": {"type": "array", "items": box, "title": "Boxes"},
            "best": {**box, "nullable": True, "title": "Best"},
        },
        "required": ["boxes"],
    }


@pytest.mark.unit
def test_iterator_of_lists() -> None:
    output = OutputSpec(FieldType(primitive=Primitive.FLOAT, is_list=True), OutputKind.ITERATOR)
    document = openapi_document(signature(output=output), None)
    assert document["components"]["schemas"]["Output"] == {
        "title": "Output",
        "type": "array",
        "items": {"type": "array", "items": {"type": "number"}},
        "x-cog-array-type": "iterator",
    }


@pytest.mark.unit
def test_secret_list_with_none_default_is_optional_and_not_nullable() -> None:
    spec = InputSpec("keys", FieldType(primitive=Primitive.SECRET, is_list=True), default=None)
    schema = openapi_document(signature(spec), None)["components"]["schemas"]["Input"]
    assert "required" not in schema
    assert "nullable" not in schema["properties"]["keys"]
    assert "default" not in schema["properties"]["keys"]


@pytest.mark.unit
def test_train_enum_with_a_predict_name_keeps_the_predict_one() -> None:
    # As the reference merges: a train component never replaces a predict one.
    predict = signature(InputSpec("mode", STRING, choices=("a", "b")))
    train = signature(InputSpec("mode", STRING, choices=("x", "y")), mode=Mode.TRAIN)
    schemas = openapi_document(predict, train)["components"]["schemas"]
    assert schemas["mode"]["enum"] == ["a", "b"]
    assert schemas["TrainingInput"]["properties"]["mode"]["allOf"] == [
        {"$ref": "#/components/schemas/mode"}
    ]


@pytest.mark.unit
def test_streaming_flag_only_on_predictions() -> None:
    streaming = Signature(
        mode=Mode.PREDICT,
        inputs=(),
        output=OutputSpec(STRING, OutputKind.ITERATOR),
        streaming=True,
    )
    train = Signature(Mode.TRAIN, (), OutputSpec(STRING, OutputKind.ITERATOR), streaming=True)
    paths = openapi_document(streaming, train)["paths"]
    assert paths["/predictions"]["post"]["x-cog-streaming"] is True
    assert "x-cog-streaming" not in paths["/predictions"]
    assert "x-cog-streaming" not in paths["/trainings"]
    assert "x-cog-streaming" not in paths["/trainings"]["post"]


@pytest.mark.unit
def test_documents_are_independent_copies() -> None:
    first = openapi_document(signature(), None)
    first["components"]["schemas"]["Status"]["enum"].append("lost")
    assert (
        "lost" not in openapi_document(signature(), None)["components"]["schemas"]["Status"]["enum"]
    )


@pytest.mark.unit
def test_no_signature_at_all() -> None:
    with pytest.raises(ValueError, match="needs a predict or a train signature"):
        openapi_document(None, None)
