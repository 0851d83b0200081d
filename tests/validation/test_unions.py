"""Unions of JSON-native types: which member takes a value, and the anyOf message."""

from __future__ import annotations

import pytest

from cog._signature.model import FieldType, Primitive
from cog._signature.validate import validate_input
from cog.errors import SchemaError
from tests.validation._bodies import body, detail, rejection
from tests.validation._signatures import ANY, BOOL, FLOAT, INT, PATH, STR, list_of, one, union

ANY_OF = "is not valid under any of the schemas listed in the 'anyOf' keyword"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("members", "value", "expected"),
    [
        ((BOOL, INT), True, True),  # bool before int
        ((INT, BOOL), True, True),
        ((BOOL, INT), 1, 1),
        ((FLOAT, INT), 3, 3),  # int before float
        ((INT, FLOAT), 3.0, 3.0),  # an exact match wins: a JSON float stays a float
        ((INT, FLOAT), 2.5, 2.5),
        ((FLOAT, STR), 3, 3),  # a JSON integer fits a float member, and stays an int
        ((STR, FLOAT), 1, 1),
        ((FLOAT, STR), 3.0, 3.0),
        ((list_of(Primitive.FLOAT), STR), [1, 2.5], [1, 2.5]),
        ((STR, INT), 1.0, 1),  # integral: the int member takes it
        ((STR, INT), "1", "1"),
        ((STR, ANY), {"a": 1}, {"a": 1}),
        ((list_of(Primitive.INTEGER), BOOL), [1, 2.0], [1, 2]),
        ((list_of(Primitive.STRING), STR), ["a"], ["a"]),
        ((list_of(Primitive.STRING), STR), "a", "a"),
    ],
)
def test_member_preference(members: tuple[FieldType, ...], value: object, expected: object) -> None:
    out = validate_input(one(union(*members)), {"x": value})
    assert out == {"x": expected}
    assert type(out["x"]) is type(expected)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("members", "value", "shown"),
    [
        ((STR, INT), 1.5, "1.5"),
        ((STR, INT), True, "true"),
        ((STR, INT), [1], "[1]"),
        ((STR, INT), None, "null"),
        ((list_of(Primitive.INTEGER), BOOL), [1, "a"], r"[1,\"a\"]"),
        ((list_of(Primitive.INTEGER), BOOL), 1, "1"),
    ],
)
def test_no_member_fits(members: tuple[FieldType, ...], value: object, shown: str) -> None:
    expected = body(detail('"x"', f'"{shown} {ANY_OF}"'))
    assert rejection(one(union(*members)), {"x": value}) == expected


@pytest.mark.unit
def test_nullable_union_accepts_null() -> None:
    sig = one(union(STR, FLOAT, nullable=True), None)
    assert validate_input(sig, {"x": None}) == {"x": None}
    assert validate_input(sig, {}) == {"x": None}
    assert validate_input(sig, {"x": 1}) == {"x": 1.0}
    assert rejection(sig, {"x": True}) == body(detail('"x"', f'"true {ANY_OF}"'))


@pytest.mark.unit
@pytest.mark.parametrize("bad", [PATH, FieldType(primitive=Primitive.SECRET)])
def test_unions_with_file_or_secret_members_are_a_schema_error(bad: FieldType) -> None:
    with pytest.raises(SchemaError, match="union"):
        validate_input(one(union(STR, bad)), {"x": "a"})
