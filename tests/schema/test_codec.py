"""Signature <-> JSON: lossless for every fixture, and a hand-written JSON form."""

from __future__ import annotations

import json

import pytest

from cog._signature.codec import signature_from_json, signature_to_json
from cog._signature.model import (
    MISSING,
    FieldType,
    InputSpec,
    Mode,
    ModelSpec,
    OutputKind,
    OutputSpec,
    Primitive,
    Signature,
)
from cog._signature.static import signature_from_source

from ._fixtures import MODELS, fixture_ref, predict_cases


@pytest.mark.unit
@pytest.mark.parametrize("case", predict_cases())
def test_round_trip_through_json_text(case: str) -> None:
    ref = fixture_ref(case)
    signature = signature_from_source(MODELS / case, ref, Mode.PREDICT)
    text = json.dumps(signature_to_json(signature))
    decoded = signature_from_json(json.loads(text))
    assert decoded == signature
    assert decoded.warnings == signature.warnings


SIGNATURE = Signature(
    mode=Mode.TRAIN,
    inputs=(
        InputSpec("prompt", FieldType(primitive=Primitive.STRING), description="Prompt"),
        InputSpec("seed", FieldType(primitive=Primitive.INTEGER, nullable=True), default=None),
        InputSpec(
            "value",
            FieldType(
                union=(
                    FieldType(primitive=Primitive.STRING),
                    FieldType(primitive=Primitive.FLOAT, is_list=True),
                )
            ),
            default=1.5,
            ge=0.0,
            choices=("a", 2),
            deprecated=True,
        ),
    ),
    output=OutputSpec(
        FieldType(
            model=ModelSpec(
                "Out",
                (
                    ("file", FieldType(primitive=Primitive.PATH, nullable=True)),
                    ("tags", FieldType(primitive=Primitive.STRING, is_list=True)),
                ),
            )
        ),
        OutputKind.ITERATOR,
    ),
    is_async=True,
    streaming=True,
    setup_takes_weights=True,
    is_class=False,
    warnings=("a warning",),
)

JSON_FORM = {
    "mode": "train",
    "inputs": [
        {"name": "prompt", "type": {"primitive": "str"}, "description": "Prompt"},
        {"name": "seed", "type": {"primitive": "int", "nullable": True}, "default": None},
        {
            "name": "value",
            "type": {"union": [{"primitive": "str"}, {"primitive": "float", "is_list": True}]},
            "default": 1.5,
            "ge": 0.0,
            "deprecated": True,
            "choices": ["a", 2],
        },
    ],
    "output": {
        "type": {
            "model": {
                "name": "Out",
                "fields": [
                    ["file", {"primitive": "Path", "nullable": True}],
                    ["tags", {"primitive": "str", "is_list": True}],
                ],
            }
        },
        "kind": "iterator",
    },
    "is_async": True,
    "streaming": True,
    "setup_takes_weights": True,
    "is_class": False,
    "warnings": ["a warning"],
}


@pytest.mark.unit
def test_json_form_is_plain_and_stable() -> None:
    assert signature_to_json(SIGNATURE) == JSON_FORM
    assert signature_from_json(JSON_FORM) == SIGNATURE


@pytest.mark.unit
def test_absent_default_is_missing_and_null_is_none() -> None:
    decoded = signature_from_json(JSON_FORM)
    assert decoded.inputs[0].default is MISSING
    assert decoded.inputs[0].required
    assert decoded.inputs[1].default is None
    assert not decoded.inputs[1].required


@pytest.mark.unit
def test_bad_json_raises() -> None:
    with pytest.raises(ValueError, match="'maybe' is not a valid Mode"):
        signature_from_json({**JSON_FORM, "mode": "maybe"})
    with pytest.raises(TypeError, match="streaming must be true or false"):
        signature_from_json({**JSON_FORM, "streaming": "yes"})


@pytest.mark.unit
def test_accept_and_model_defaults_survive_the_round_trip() -> None:
    model = ModelSpec(
        "Scored",
        (("label", FieldType(primitive=Primitive.STRING)), ("n", FieldType(Primitive.INTEGER))),
        defaults=(("n", 3),),
        optional=("label",),
    )
    signature = Signature(
        mode=Mode.PREDICT,
        inputs=(InputSpec("image", FieldType(primitive=Primitive.PATH), accept="image/*"),),
        output=OutputSpec(FieldType(model=model)),
    )
    data = signature_to_json(signature)
    assert data["inputs"][0]["accept"] == "image/*"
    assert data["output"]["type"]["model"]["defaults"] == [["n", 3]]
    assert signature_from_json(json.loads(json.dumps(data))) == signature
