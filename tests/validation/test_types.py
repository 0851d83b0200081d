"""Each input type: the values it takes (and what they become), and the 422 for the rest.

Expected bodies are the reference server's (coglet 0.23.1), written out by hand.
"""

from __future__ import annotations

import pytest

from cog._sdk.value_types import Secret
from cog._signature.model import Primitive
from cog._signature.validate import validate_input
from tests.validation._bodies import body, detail, rejection
from tests.validation._signatures import (
    ANY,
    BOOL,
    FILE,
    FLOAT,
    INT,
    PATH,
    SECRET,
    STR,
    list_of,
    one,
    optional,
)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("sig_type", "value", "expected"),
    [
        (STR, "hello", "hello"),
        (STR, "", ""),
        (INT, 3, 3),
        (INT, -7, -7),
        (INT, 3.0, 3),  # JSON Schema: an integer is a number with a zero fraction
        (INT, 12345678901234567890, 12345678901234567890),
        (FLOAT, 2.5, 2.5),
        (FLOAT, 3, 3.0),  # a JSON integer is accepted for a float
        (BOOL, True, True),
        (BOOL, False, False),
        (ANY, {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        (ANY, {}, {}),
        (PATH, "https://example.invalid/a.png", "https://example.invalid/a.png"),
        (PATH, "http://h/x", "http://h/x"),
        (FILE, "data:text/plain;base64,aGVsbG8=", "data:text/plain;base64,aGVsbG8="),
        (PATH, "HTTPS://H/X", "HTTPS://H/X"),
    ],
)
def test_valid_values_become_the_declared_type(
    sig_type: object, value: object, expected: object
) -> None:
    out = validate_input(one(sig_type), {"x": value})  # type: ignore[arg-type]
    assert out == {"x": expected}
    assert type(out["x"]) is type(expected)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("sig_type", "value", "msg"),
    [
        (STR, 3, r'"3 is not of type \"string\""'),
        (STR, True, r'"true is not of type \"string\""'),
        (STR, None, r'"null is not of type \"string\""'),
        (STR, ["a"], r'"[\"a\"] is not of type \"string\""'),
        (INT, "3", r'"\"3\" is not of type \"integer\""'),
        (INT, 3.5, r'"3.5 is not of type \"integer\""'),
        (INT, True, r'"true is not of type \"integer\""'),
        (INT, "abc", r'"\"abc\" is not of type \"integer\""'),
        (FLOAT, "3.5", r'"\"3.5\" is not of type \"number\""'),
        (FLOAT, True, r'"true is not of type \"number\""'),
        (BOOL, "true", r'"\"true\" is not of type \"boolean\""'),
        (BOOL, 1, r'"1 is not of type \"boolean\""'),
        (BOOL, 0, r'"0 is not of type \"boolean\""'),
        (BOOL, "yes", r'"\"yes\" is not of type \"boolean\""'),
        (ANY, [1], r'"[1] is not of type \"object\""'),
        (ANY, "s", r'"\"s\" is not of type \"object\""'),
        (PATH, 5, r'"5 is not of type \"string\""'),
        (list_of(Primitive.INTEGER), 1, r'"1 is not of type \"array\""'),
        (list_of(Primitive.INTEGER), "1", r'"\"1\" is not of type \"array\""'),
    ],
)
def test_wrong_json_type(sig_type: object, value: object, msg: str) -> None:
    expected = body(detail('"x"', msg))
    assert rejection(one(sig_type), {"x": value}) == expected  # type: ignore[arg-type]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1e20, "1e+20"),
        (1e15, "1000000000000000.0"),
        (1e-7, "1e-7"),
        (2.5e-5, "0.000025"),
        (-0.0, "-0.0"),
        (123456789012345678901234567890, "1.2345678901234568e+29"),
        ({"b": 1, "a": [True, None, "é\u0001"]}, r"{\"a\":[true,null,\"é\\u0001\"],\"b\":1}"),
        ("😀\n", r"\"😀\\n\""),
    ],
)
def test_values_in_messages_are_shown_as_the_reference_shows_them(
    value: object, shown: str
) -> None:
    expected = body(detail('"x"', f'"{shown} is not of type \\"boolean\\""'))
    assert rejection(one(BOOL), {"x": value}) == expected


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("foo.txt", r"\"foo.txt\""),
        ("/etc/hostname", r"\"/etc/hostname\""),
        ("ftp://x/y", r"\"ftp://x/y\""),
        ("", r"\"\""),
        ("http://", r"\"http://\""),
        ("file:///etc/passwd", r"\"file:///etc/passwd\""),
    ],
)
def test_path_must_be_an_http_https_or_data_url(url: str, shown: str) -> None:
    expected = body(detail('"x"', f'"{shown} is not an http, https or data URL"'))
    assert rejection(one(PATH), {"x": url}) == expected


@pytest.mark.unit
def test_lists_keep_their_items_typed_and_name_failing_items_by_index() -> None:
    sig = one(list_of(Primitive.FLOAT))
    out = validate_input(sig, {"x": [1, 2.5]})
    assert out == {"x": [1.0, 2.5]}
    assert [type(v) for v in out["x"]] == [float, float]  # type: ignore[attr-defined]
    assert validate_input(sig, {"x": []}) == {"x": []}
    expected = body(
        detail('"x/1"', r'"\"a\" is not of type \"number\""'),
        detail('"x/2"', r'"null is not of type \"number\""'),
    )
    assert rejection(sig, {"x": [1, "a", None]}) == expected


@pytest.mark.unit
def test_list_of_paths_checks_each_url() -> None:
    sig = one(list_of(Primitive.PATH))
    assert validate_input(sig, {"x": ["data:,a", "https://h/b"]}) == {
        "x": ["data:,a", "https://h/b"]
    }
    expected = body(detail('"x/1"', r'"3 is not of type \"string\""'))
    assert rejection(sig, {"x": ["data:,a", 3]}) == expected


@pytest.mark.unit
def test_secret_is_wrapped_and_never_shown() -> None:
    out = validate_input(one(SECRET), {"x": "hunter2"})
    assert isinstance(out["x"], Secret)
    assert out["x"].get_secret_value() == "hunter2"
    for wrong in (5, ["hunter2"], {"token": "hunter2"}):
        got = rejection(one(SECRET), {"x": wrong})
        assert got == body(detail('"x"', r'"\"**********\" is not of type \"string\""'))
        assert b"hunter2" not in got


@pytest.mark.unit
def test_secret_with_a_length_limit_does_not_leak_the_value() -> None:
    got = rejection(one(SECRET, "", min_length=12), {"x": "hunter2"})
    assert got == body(detail('"x"', r'"\"**********\" is shorter than 12 characters"'))


@pytest.mark.unit
def test_list_of_secrets() -> None:
    out = validate_input(one(list_of(Primitive.SECRET)), {"x": ["a", "b"]})
    assert [s.get_secret_value() for s in out["x"]] == ["a", "b"]  # type: ignore[attr-defined]
    got = rejection(one(list_of(Primitive.SECRET)), {"x": ["a", 7]})
    assert got == body(detail('"x/1"', r'"\"**********\" is not of type \"string\""'))


@pytest.mark.unit
def test_optional_accepts_null_and_defaults_to_none() -> None:
    sig = one(optional(Primitive.INTEGER))
    assert validate_input(sig, {"x": None}) == {"x": None}
    assert validate_input(sig, {}) == {"x": None}
    assert validate_input(sig, {"x": 2}) == {"x": 2}
    assert rejection(sig, {"x": "1"}) == body(detail('"x"', r'"\"1\" is not of type \"integer\""'))


@pytest.mark.unit
def test_null_for_a_type_without_none_default_is_refused() -> None:
    assert rejection(one(INT, 1), {"x": None}) == body(
        detail('"x"', r'"null is not of type \"integer\""')
    )


@pytest.mark.unit
def test_none_default_makes_null_the_same_as_absent() -> None:
    sig = one(STR, None)
    assert validate_input(sig, {"x": None}) == {"x": None}
    assert validate_input(sig, {}) == {"x": None}


@pytest.mark.unit
def test_dict_is_passed_through_as_is() -> None:
    value = {"nested": {"list": [1, 2.5, "x"]}, "n": None}
    out = validate_input(one(ANY), {"x": value})
    assert out["x"] is value


@pytest.mark.unit
@pytest.mark.parametrize("value", [float("inf"), float("nan"), 10**400])
def test_numbers_beyond_json_are_refused(value: object) -> None:
    got = rejection(one(FLOAT), {"x": value})
    assert b"is not a finite number" in got
