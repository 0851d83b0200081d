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
def test_models_are_named_components_referenced_with_ref() -> None:
    inner = ModelSpec("Box", (("x", FieldType(primitive=Primitive.INTEGER)),))
    outer = ModelSpec(
        "Result",
        (
            ("boxes", FieldType(model=inner, is_list=True)),
            ("best", FieldType(model=inner, nullable=True)),
            ("steps", FieldType(primitive=Primitive.INTEGER)),
            ("note", FieldType(primitive=Primitive.STRING)),
        ),
        defaults=(("steps", 4),),
        optional=("note",),
    )
    document = openapi_document(signature(output=OutputSpec(FieldType(model=outer))), None)
    schemas = document["components"]["schemas"]
    assert schemas["Output"] == {"$ref": "#/components/schemas/Result"}
    assert schemas["Box"] == {
        "title": "Box",
        "type": "object",
        "properties": {"x": {"type": "integer", "title": "X"}},
        "required": ["x"],
    }
    assert schemas["Result"] == {
        "title": "Result",
        "type": "object",
        "properties": {
            "boxes": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Box"},
                "title": "Boxes",
            },
            "best": {"$ref": "#/components/schemas/Box", "nullable": True},
            "steps": {"type": "integer", "title": "Steps", "default": 4},
            "note": {"type": "string", "title": "Note"},
        },
        "required": ["boxes"],
    }


@pytest.mark.unit
def test_a_model_named_like_the_component_is_inlined() -> None:
    model = ModelSpec("Output", (("x", FieldType(primitive=Primitive.INTEGER)),))
    document = openapi_document(signature(output=OutputSpec(FieldType(model=model))), None)
    assert document["components"]["schemas"]["Output"] == {
        "title": "Output",
        "type": "object",
        "properties": {"x": {"type": "integer", "title": "X"}},
        "required": ["x"],
    }


@pytest.mark.unit
def test_union_and_optional_outputs() -> None:
    union = FieldType(
        union=(FieldType(primitive=Primitive.STRING), FieldType(primitive=Primitive.PATH)),
        nullable=True,
    )
    document = openapi_document(signature(output=OutputSpec(union)), None)
    assert document["components"]["schemas"]["Output"] == {
        "title": "Output",
        "anyOf": [{"type": "string"}, {"type": "string", "format": "uri"}],
        "nullable": True,
    }
    optional = FieldType(primitive=Primitive.INTEGER, nullable=True)
    document = openapi_document(signature(output=OutputSpec(optional)), None)
    assert document["components"]["schemas"]["Output"] == {
        "title": "Output",
        "type": "integer",
        "nullable": True,
    }


@pytest.mark.unit
def test_training_output_is_titled_training_output() -> None:
    train = signature(mode=Mode.TRAIN)
    document = openapi_document(None, train)
    assert document["components"]["schemas"]["TrainingOutput"]["title"] == "TrainingOutput"


@pytest.mark.unit
def test_prediction_and_training_posts_declare_the_prefer_header() -> None:
    train = signature(mode=Mode.TRAIN)
    document = openapi_document(signature(), train)
    prefer = {
        "required": False,
        "schema": {"title": "Prefer", "type": "string"},
        "name": "prefer",
        "in": "header",
    }
    for path in ("/predictions", "/trainings"):
        assert document["paths"][path]["post"]["parameters"] == [prefer]


@pytest.mark.unit
def test_accept_is_written_as_x_cog_accept() -> None:
    spec = InputSpec("image", FieldType(primitive=Primitive.PATH), accept="image/*,.png")
    document = openapi_document(signature(spec), None)
    prop = document["components"]["schemas"]["Input"]["properties"]["image"]
    assert prop["x-cog-accept"] == "image/*,.png"


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


@pytest.mark.unit
def test_a_train_model_named_output_does_not_shadow_the_predict_output() -> None:
    model = ModelSpec("Output", (("weights", FieldType(primitive=Primitive.PATH)),))
    train = signature(output=OutputSpec(FieldType(model=model)), mode=Mode.TRAIN)
    schemas = openapi_document(signature(), train)["components"]["schemas"]
    assert schemas["Output"] == {"type": "string", "title": "Output"}
    assert schemas["TrainingOutput"]["title"] == "TrainingOutput"
    assert schemas["TrainingOutput"]["properties"]["weights"]["format"] == "uri"
