"""Issue 20's schema items over real HTTP: the model used to fail setup (503) on its Literal
input; now it is READY, documents its inputs and output as the reference does, validates
the Literal and passes a union's integer through as an integer."""

from __future__ import annotations

import pytest
import requests

from .conftest import ServerFactory

pytestmark = pytest.mark.integration

_REF = "#/components/schemas/"


def test_literal_union_kwargs_and_optional_model_output(server: ServerFactory) -> None:
    instance = server("schema_features.py:FeaturesRunner")
    document = requests.get(instance.url + "/openapi.json", timeout=30).json()
    schemas = document["components"]["schemas"]
    assert schemas["mode"]["enum"] == ["fast", "slow"]
    assert schemas["Input"]["properties"]["mode"]["allOf"] == [{"$ref": f"{_REF}mode"}]
    assert list(schemas["Input"]["properties"]) == ["mode", "value"]  # no kwargs input
    assert schemas["Output"] == {"$ref": f"{_REF}Scored", "nullable": True}
    assert schemas["Scored"]["properties"]["score"]["default"] == 0.5
    assert schemas["Scored"]["required"] == ["label"]
    prefer = document["paths"]["/predictions"]["post"]["parameters"]
    assert prefer == [
        {
            "required": False,
            "schema": {"title": "Prefer", "type": "string"},
            "name": "prefer",
            "in": "header",
        }
    ]

    done = instance.predict({"input": {"mode": "slow", "value": 1, "extra": True}})
    assert done.status_code == 200, done.text
    assert done.json()["output"] == {"label": "slow:int:1:[]", "score": 0.5}
    assert instance.predict({"input": {"value": 2.5}}).json()["output"]["label"] == (
        "fast:float:2.5:[]"
    )
    assert instance.predict({"input": {"mode": "slow", "value": "none"}}).json()["output"] is None

    refused = instance.predict({"input": {"mode": "medium"}})
    assert refused.status_code == 422
    assert refused.json() == {
        "detail": [
            {
                "loc": ["body", "input", "mode"],
                "msg": '"medium" is not one of ["fast","slow"]',
                "type": "value_error",
            }
        ]
    }


def test_an_iterator_of_model_lists_and_a_typed_dict_are_served(server: ServerFactory) -> None:
    batches = server("schema_features.py:BatchesRunner")
    output = requests.get(batches.url + "/openapi.json", timeout=30).json()
    assert output["components"]["schemas"]["Output"]["items"] == {
        "type": "array",
        "items": {"$ref": f"{_REF}Scored"},
    }
    done = batches.predict({"input": {"n": 2}})
    assert done.status_code == 200, done.text
    assert done.json()["output"] == [
        [{"label": "batch 0", "score": 0.0}],
        [{"label": "batch 1", "score": 1.0}],
    ]
    messages = server("schema_features.py:MessageRunner")
    schemas = requests.get(messages.url + "/openapi.json", timeout=30).json()["components"]
    assert schemas["schemas"]["Message"]["properties"] == {
        "role": {"type": "string", "title": "Role"}
    }
    assert messages.predict({}).json()["output"] == {"role": "assistant"}
