"""An input's constraints (choices, ge/le, min_length/max_length, regex) and their messages.

Each keyword constrains only values of its JSON type (lengths and patterns strings, bounds
numbers), as in JSON Schema; the type itself is checked by the caller.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cog._signature._ecma_regex import compile_pattern
from cog._signature._jsonrender import render_choices, render_schema_number
from cog._signature.model import InputSpec
from cog.errors import SchemaError


def _is_number(value: object) -> bool:
    return type(value) is int or type(value) is float


def _json_equal(a: object, b: object) -> bool:
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b  # true is not 1 in JSON
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


@dataclass(frozen=True)
class Constraints:
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str | None = None
    choices: tuple[str | int | float, ...] | None = None

    def predicate(self) -> Callable[[object], bool] | None:
        """One function checking every keyword on a value of the right type; None if none."""
        checks: list[Callable[[object], bool]] = []
        if self.choices is not None:
            checks.append(_choice_check(self.choices))
        if self.min_length is not None or self.max_length is not None or self.pattern:
            checks.append(_string_check(self.min_length, self.max_length, self.pattern))
        if self.ge is not None or self.le is not None:
            checks.append(_range_check(self.ge, self.le))
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def messages(self, value: object, shown: str) -> list[str]:
        """Failed keywords after enum, in the reference's order; ``shown`` is the value."""
        out: list[str] = []
        if type(value) is str:
            n = len(value)
            if self.max_length is not None and n > self.max_length:
                out.append(f"{shown} is longer than {_characters(self.max_length)}")
            if self.min_length is not None and n < self.min_length:
                out.append(f"{shown} is shorter than {_characters(self.min_length)}")
            if self.pattern is not None and self.pattern.search(value) is None:
                out.append(f'{shown} does not match "{self.pattern_text}"')
        elif _is_number(value):
            if self.le is not None and value > self.le:  # type: ignore[operator]
                out.append(
                    f"{shown} is greater than the maximum of {render_schema_number(self.le)}"
                )
            if self.ge is not None and value < self.ge:  # type: ignore[operator]
                out.append(f"{shown} is less than the minimum of {render_schema_number(self.ge)}")
        return out

    def enum_message(self, value: object, shown: str) -> str | None:
        if self.choices is None or any(_json_equal(value, c) for c in self.choices):
            return None
        return f"{shown} is not one of {render_choices(self.choices)}"


NO_CONSTRAINTS: Final = Constraints()


def _choice_check(choices: tuple[str | int | float, ...]) -> Callable[[object], bool]:
    strings = frozenset(c for c in choices if type(c) is str)
    # 1 == 1.0 in JSON, but true is not 1: a bool never reaches the numbers.
    numbers = frozenset(c for c in choices if type(c) is int or type(c) is float)

    def check(value: object) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is int or kind is float:
            return value in numbers
        return False

    return check


def _string_check(
    min_length: int | None, max_length: int | None, pattern: re.Pattern[str] | None
) -> Callable[[object], bool]:
    low = min_length or 0
    high = sys.maxsize if max_length is None else max_length
    search = pattern.search if pattern is not None else None

    def check(value: object) -> bool:
        if type(value) is not str:
            return True  # length and pattern only constrain strings
        if not low <= len(value) <= high:
            return False
        return search is None or search(value) is not None

    return check


def _range_check(ge: float | None, le: float | None) -> Callable[[object], bool]:
    low = -math.inf if ge is None else ge
    high = math.inf if le is None else le

    def check(value: object) -> bool:
        kind = type(value)
        if kind is int or kind is float:
            return low <= value <= high  # type: ignore[operator]
        return True  # bounds only constrain numbers

    return check


def _characters(n: int) -> str:
    return f"{n} character" if n == 1 else f"{n} characters"


def constraints_of(spec: InputSpec) -> Constraints:
    pattern = None
    if spec.regex is not None:
        try:
            pattern = compile_pattern(spec.regex)
        except re.error as exc:
            raise SchemaError(
                f"input '{spec.name}': regex {spec.regex!r} is not a valid regular expression"
                f" ({exc})",
                hint="Fix the regex= argument of this Input().",
            ) from exc
    return Constraints(
        ge=spec.ge,
        le=spec.le,
        min_length=spec.min_length,
        max_length=spec.max_length,
        pattern=pattern,
        pattern_text=spec.regex,
        choices=spec.choices,
    )
