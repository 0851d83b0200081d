"""ge/le, min_length/max_length, regex and choices, with the reference's messages."""

from __future__ import annotations

import pytest

from cog._signature.model import Primitive
from cog._signature.validate import validate_input
from tests.validation._bodies import body, detail, rejection
from tests.validation._signatures import FLOAT, INT, STR, list_of, one, union


@pytest.mark.unit
@pytest.mark.parametrize("value", [1, 5, 10, 10.0, 1.0])
def test_int_within_bounds(value: object) -> None:
    out = validate_input(one(INT, 5, ge=1, le=10), {"x": value})
    assert out == {"x": int(value)}  # type: ignore[call-overload]
    assert type(out["x"]) is int


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "msgs"),
    [
        (0, ['"0 is less than the minimum of 1"']),
        (11, ['"11 is greater than the maximum of 10"']),
        (1e20, ['"1e+20 is greater than the maximum of 10"']),
        # The reference reports the bound, then the type, for a fractional number.
        (10.5, ['"10.5 is greater than the maximum of 10"', r'"10.5 is not of type \"integer\""']),
        (0.5, ['"0.5 is less than the minimum of 1"', r'"0.5 is not of type \"integer\""']),
        ("5", [r'"\"5\" is not of type \"integer\""']),
    ],
)
def test_int_out_of_bounds(value: object, msgs: list[str]) -> None:
    expected = body(*(detail('"x"', m) for m in msgs))
    assert rejection(one(INT, 5, ge=1, le=10), {"x": value}) == expected


@pytest.mark.unit
def test_float_bounds_are_shown_as_written() -> None:
    sig = one(FLOAT, 1.0, ge=0.5, le=1e20)
    assert validate_input(sig, {"x": 0.5}) == {"x": 0.5}
    assert rejection(sig, {"x": 0.1}) == body(
        detail('"x"', '"0.1 is less than the minimum of 0.5"')
    )
    assert rejection(sig, {"x": 1e21}) == body(
        detail('"x"', '"1e+21 is greater than the maximum of 1e+20"')
    )


@pytest.mark.unit
@pytest.mark.parametrize("value", ["ab", "abcd", "ééé", "😀😀"])
def test_length_within_limits_counts_characters(value: str) -> None:
    assert validate_input(one(STR, "abc", min_length=2, max_length=4), {"x": value}) == {"x": value}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "msg"),
    [
        ("a", r'"\"a\" is shorter than 2 characters"'),
        ("abcde", r'"\"abcde\" is longer than 4 characters"'),
        ("😀😀😀😀😀", r'"\"😀😀😀😀😀\" is longer than 4 characters"'),
    ],
)
def test_length_out_of_limits(value: str, msg: str) -> None:
    sig = one(STR, "abc", min_length=2, max_length=4)
    assert rejection(sig, {"x": value}) == body(detail('"x"', msg))


@pytest.mark.unit
def test_length_of_one_is_singular() -> None:
    sig = one(STR, "a", min_length=1, max_length=1)
    assert rejection(sig, {"x": ""}) == body(detail('"x"', r'"\"\" is shorter than 1 character"'))
    assert rejection(sig, {"x": "ab"}) == body(
        detail('"x"', r'"\"ab\" is longer than 1 character"')
    )


@pytest.mark.unit
def test_regex_is_searched_with_ecma_semantics() -> None:
    sig = one(STR, "abc", regex=r"^[a-z]+$")
    assert validate_input(sig, {"x": "abc"}) == {"x": "abc"}
    assert rejection(sig, {"x": "ABC"}) == body(
        detail('"x"', r'"\"ABC\" does not match \"^[a-z]+$\""')
    )
    # Python's $ would accept a trailing newline; the reference's does not.
    assert rejection(sig, {"x": "abc\n"}) == body(
        detail('"x"', r'"\"abc\\n\" does not match \"^[a-z]+$\""')
    )
    unanchored = one(STR, "", regex="b")
    assert validate_input(unanchored, {"x": "abc"}) == {"x": "abc"}


@pytest.mark.unit
def test_regex_classes_are_ascii_except_spaces() -> None:
    digits = one(STR, "1", regex=r"^\d+$")
    assert rejection(digits, {"x": "١٢"}) == body(
        detail('"x"', r'"\"١٢\" does not match \"^\\d+$\""')
    )
    words = one(STR, "a x", regex=r"\w+\s\bx")
    assert validate_input(words, {"x": "a\u00a0x"}) == {"x": "a\u00a0x"}
    assert rejection(words, {"x": "é١ x"}) == body(
        detail('"x"', r'"\"é١ x\" does not match \"\\w+\\s\\bx\""')
    )


@pytest.mark.unit
def test_several_string_constraints_fail_in_keyword_order() -> None:
    sig = one(STR, "abc", max_length=4, regex=r"^[a-z]+$")
    assert rejection(sig, {"x": "ABCDEFG"}) == body(
        detail('"x"', r'"\"ABCDEFG\" is longer than 4 characters"'),
        detail('"x"', r'"\"ABCDEFG\" does not match \"^[a-z]+$\""'),
    )


@pytest.mark.unit
def test_string_choices() -> None:
    sig = one(STR, "a", choices=("a", "b"))
    assert validate_input(sig, {"x": "b"}) == {"x": "b"}
    assert rejection(sig, {"x": "c"}) == body(detail('"x"', r'"\"c\" is not one of [\"a\",\"b\"]"'))
    # A value of the wrong type gets both entries, enum first, as from the reference.
    assert rejection(sig, {"x": 1}) == body(
        detail('"x"', r'"1 is not one of [\"a\",\"b\"]"'),
        detail('"x"', r'"1 is not of type \"string\""'),
    )


@pytest.mark.unit
def test_int_choices() -> None:
    sig = one(INT, 1, choices=(1, 2))
    assert validate_input(sig, {"x": 2}) == {"x": 2}
    assert validate_input(sig, {"x": 1.0}) == {"x": 1}
    assert rejection(sig, {"x": 3}) == body(detail('"x"', '"3 is not one of [1,2]"'))
    assert rejection(sig, {"x": True}) == body(
        detail('"x"', '"true is not one of [1,2]"'),
        detail('"x"', r'"true is not of type \"integer\""'),
    )
    assert rejection(sig, {"x": "1"}) == body(
        detail('"x"', r'"\"1\" is not one of [1,2]"'),
        detail('"x"', r'"\"1\" is not of type \"integer\""'),
    )


@pytest.mark.unit
def test_float_choices_compare_numerically() -> None:
    sig = one(FLOAT, 0.5, choices=(0.5, 1.0, 2))
    assert validate_input(sig, {"x": 1}) == {"x": 1.0}
    assert validate_input(sig, {"x": 2.0}) == {"x": 2.0}
    assert rejection(sig, {"x": 3}) == body(detail('"x"', '"3 is not one of [0.5,1,2]"'))


@pytest.mark.unit
def test_list_constraints_apply_to_each_item() -> None:
    sig = one(list_of(Primitive.INTEGER), (), ge=2, choices=(2, 3, 4))
    assert validate_input(sig, {"x": [2, 4]}) == {"x": [2, 4]}
    assert rejection(sig, {"x": [1, 3, 5]}) == body(
        detail('"x/0"', '"1 is not one of [2,3,4]"'),
        detail('"x/0"', '"1 is less than the minimum of 2"'),
        detail('"x/2"', '"5 is not one of [2,3,4]"'),
    )


@pytest.mark.unit
def test_union_with_bounds() -> None:
    sig = one(union(STR, INT), "u", ge=0)
    assert validate_input(sig, {"x": 3}) == {"x": 3}
    assert validate_input(sig, {"x": "s"}) == {"x": "s"}
    assert rejection(sig, {"x": -1}) == body(detail('"x"', '"-1 is less than the minimum of 0"'))
