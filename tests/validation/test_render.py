"""The value renderer (serde_json's Display) and the ECMA regex translation, alone."""

from __future__ import annotations

import pytest

from cog._signature._ecma_regex import compile_pattern
from cog._signature._jsonrender import (
    render,
    render_choices,
    render_float,
    render_int,
    render_schema_number,
)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "text"),
    [
        # Observed in the reference's messages.
        (1e20, "1e+20"),
        (1.5e16, "1.5e+16"),
        (1e16, "1e+16"),
        (1e15, "1000000000000000.0"),
        (123456789.123, "123456789.123"),
        (1e-7, "1e-7"),
        (0.0001, "0.0001"),
        (0.00001, "0.00001"),
        (-0.0, "-0.0"),
        (1e300, "1e+300"),
        (2.5e-5, "0.000025"),
        (0.1, "0.1"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (1e-6, "1e-6"),
        (1.234e-6, "1.234e-6"),
        (5e-324, "5e-324"),
        (9999999999999998.0, "9999999999999998.0"),
        (-1.5e-5, "-0.000015"),
        (100.0, "100.0"),
        (-0.5, "-0.5"),
    ],
)
def test_floats(value: float, text: str) -> None:
    assert render_float(value) == text


@pytest.mark.unit
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9223372036854775807, "9223372036854775807"),
        (18446744073709551615, "18446744073709551615"),
        (18446744073709551616, "1.8446744073709552e+19"),
        (-9223372036854775808, "-9223372036854775808"),
        (-9223372036854775809, "-9.223372036854776e+18"),
    ],
)
def test_ints_beyond_64_bits_become_floats(value: int, text: str) -> None:
    assert render_int(value) == text


@pytest.mark.unit
def test_containers_are_compact_with_sorted_keys() -> None:
    assert render([1.0, {"b": 1e-7, "a": "\t"}]) == '[1.0,{"a":"\\t","b":1e-7}]'
    assert render({}) == "{}"
    assert render([]) == "[]"
    assert render([None, True, False]) == "[null,true,false]"


@pytest.mark.unit
def test_schema_numbers_read_as_the_go_writer_prints_them() -> None:
    assert render_schema_number(1.0) == "1"
    assert render_schema_number(-5.0) == "-5"
    assert render_schema_number(0.5) == "0.5"
    assert render_schema_number(1e20) == "1e+20"
    assert render_schema_number(1e21) == "1e+21"
    assert render_choices(("a", 1, 2.0, 0.25)) == '["a",1,2,0.25]'


@pytest.mark.unit
@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^[a-z]+$", "abc\n", False),
        (r"^[a-z]+$", "abc", True),
        (r"^\d+$", "١٢", False),
        (r"\w+\s\bx", "a\u00a0x", True),
        (r"^[\s]$", "\u3000", True),
        (r"^\S$", "\u00a0", False),
        (r"^[$]$", "$", True),
        (r"^[^]a]$", "b", True),
        (r"^[]a]$", "]", True),
        (r"(?<word>a)b", "ab", True),
        ("b", "abc", True),
    ],
)
def test_ecma_patterns(pattern: str, text: str, matches: bool) -> None:
    assert (compile_pattern(pattern).search(text) is not None) is matches
