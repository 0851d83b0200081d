from __future__ import annotations

from typing import Any

import pytest

from cog._container.inputs import input_properties, type_inputs
from cog.errors import RunError

pytestmark = pytest.mark.unit

SCHEMA: dict[str, Any] = {
    "components": {
        "schemas": {
            "Input": {
                "properties": {
                    "n": {"type": "integer"},
                    "scale": {"type": "number"},
                    "flag": {"type": "boolean"},
                    "prompt": {"type": "string"},
                    "opts": {"type": "object"},
                    "sizes": {"type": "array", "items": {"type": "integer"}},
                    "color": {"allOf": [{"$ref": "#/components/schemas/color"}]},
                    "maybe": {"anyOf": [{"type": "number"}, {"type": "null"}]},
                }
            },
            "color": {"type": "integer", "enum": [1, 2]},
            "TrainingInput": {"properties": {"epochs": {"type": "integer"}}},
        }
    }
}


def test_command_line_strings_take_the_declared_types() -> None:
    typed = type_inputs(
        {
            "n": "3",
            "scale": "1.5",
            "flag": "true",
            "prompt": "3",
            "opts": '{"a": 1}',
            "sizes": ["1", "2"],
            "color": "2",
            "maybe": "2",
        },
        input_properties(SCHEMA),
    )
    assert typed == {
        "n": 3,
        "scale": 1.5,
        "flag": True,
        "prompt": "3",
        "opts": {"a": 1},
        "sizes": [1, 2],
        "color": 2,
        "maybe": 2.0,
    }


def test_one_value_for_a_list_input_becomes_a_list() -> None:
    assert type_inputs({"sizes": "4"}, input_properties(SCHEMA)) == {"sizes": [4]}


def test_json_values_and_files_pass_through() -> None:
    props = input_properties(SCHEMA)
    assert type_inputs({"n": 3, "prompt": "data:text/plain,x"}, props) == {
        "n": 3,
        "prompt": "data:text/plain,x",
    }


def test_unknown_names_are_left_for_the_server_to_judge() -> None:
    assert type_inputs({"other": "1"}, input_properties(SCHEMA)) == {"other": "1"}


def test_training_inputs_come_from_training_input() -> None:
    assert type_inputs({"epochs": "5"}, input_properties(SCHEMA, train=True)) == {"epochs": 5}


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [("n", "three", "an integer"), ("flag", "maybe", "true or false"), ("opts", "{", "a JSON")],
)
def test_a_value_of_the_wrong_type_is_a_clear_error(name: str, value: str, expected: str) -> None:
    with pytest.raises(RunError, match=f"-i {name}={value}: expected {expected}"):
        type_inputs({name: value}, input_properties(SCHEMA))
