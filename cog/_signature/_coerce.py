"""Per-input checkers, compiled once per signature.

Each input gets two functions: ``fast`` turns a JSON value into the typed argument or
returns ``INVALID`` (the hot path of every prediction: no exceptions, no messages), and
``explain`` lists the reference's messages for a value ``fast`` refused. Messages follow
the order the reference's JSON Schema validator reports them in: keywords alphabetically
(``allOf``/``enum``, ``anyOf``, ``format``, ``maxLength``, ``maximum``, ``minLength``,
``minimum``, ``pattern``, ``type``).
"""

from __future__ import annotations

import enum
import math
import typing
from typing import Final

from cog._sdk.value_types import REDACTED, Secret
from cog._signature._constraints import NO_CONSTRAINTS, Constraints, constraints_of
from cog._signature._jsonrender import render, render_string
from cog._signature.model import FieldType, InputSpec, Primitive
from cog.errors import SchemaError


class _Invalid(enum.Enum):
    INVALID = "INVALID"


INVALID: Final = _Invalid.INVALID

Fast = typing.Callable[[object], object]
# (loc suffix, message) pairs; the suffix is the field name, or "name/index" for an item.
Explain = typing.Callable[[object, str], "list[tuple[str, str]]"]

_JSON_TYPE: Final = {
    Primitive.STRING: "string",
    Primitive.INTEGER: "integer",
    Primitive.FLOAT: "number",
    Primitive.BOOL: "boolean",
    Primitive.PATH: "string",
    Primitive.FILE: "string",
    Primitive.SECRET: "string",
    Primitive.ANY: "object",
}
# The reference SDK's preference between union members that accept the same value.
_UNION_PRIORITY: Final = {
    Primitive.BOOL: 0,
    Primitive.INTEGER: 1,
    Primitive.FLOAT: 2,
    Primitive.STRING: 3,
    Primitive.ANY: 4,
}
_URL_PREFIXES: Final = ("http://", "https://")


def _is_url(value: str) -> bool:
    head = value[:8].lower()
    if head.startswith(_URL_PREFIXES):
        rest = value[value.index("//") + 2 :]
        return bool(rest) and rest[0] not in "/?#"
    return head.startswith("data:") and "," in value


def _to_str(value: object) -> object:
    return value if type(value) is str else INVALID


def _to_int(value: object) -> object:
    if type(value) is int:
        return value
    # JSON Schema's "integer" is any number with a zero fraction: 3.0 is 3.
    if type(value) is float and math.isfinite(value) and value.is_integer():
        return int(value)
    return INVALID


def _to_float(value: object) -> object:
    if type(value) is float:
        return value if math.isfinite(value) else INVALID
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            return INVALID
    return INVALID


def _union_float(value: object) -> object:
    if type(value) is int:
        return value
    return _to_float(value)


def _to_bool(value: object) -> object:
    return value if type(value) is bool else INVALID


def _to_secret(value: object) -> object:
    return Secret(value) if type(value) is str else INVALID


def _to_object(value: object) -> object:
    return value if type(value) is dict else INVALID


def _to_url(value: object) -> object:
    # Path / File: the runtime downloads it; here only the URL's shape is checked.
    return value if type(value) is str and _is_url(value) else INVALID


_COERCE: Final[dict[Primitive, Fast]] = {
    Primitive.STRING: _to_str,
    Primitive.INTEGER: _to_int,
    Primitive.FLOAT: _to_float,
    Primitive.BOOL: _to_bool,
    Primitive.SECRET: _to_secret,
    Primitive.ANY: _to_object,
    Primitive.PATH: _to_url,
    Primitive.FILE: _to_url,
}


def coerce_primitive(primitive: Primitive, value: object) -> object:
    """The typed value for one JSON value, or INVALID when its JSON type is wrong."""
    return _COERCE[primitive](value)


def _type_ok(primitive: Primitive, value: object) -> bool:
    """The JSON Schema "type" keyword alone (no URL check, no finiteness check)."""
    kind = type(value)
    if primitive is Primitive.INTEGER:
        return kind is int or (kind is float and value.is_integer())  # type: ignore[attr-defined]
    if primitive is Primitive.FLOAT:
        return kind is int or kind is float
    if primitive is Primitive.BOOL:
        return kind is bool
    if primitive is Primitive.ANY:
        return kind is dict
    return kind is str


def _shown(value: object, secret: bool) -> str:
    return render_string(REDACTED) if secret else render(value)


def scalar_checker(primitive: Primitive, c: Constraints) -> tuple[Fast, Explain]:
    secret = primitive is Primitive.SECRET
    json_type = _JSON_TYPE[primitive]

    to_type = _COERCE[primitive]
    check = c.predicate()
    if check is None:
        fast = to_type
    else:

        def fast(value: object) -> object:
            coerced = to_type(value)
            if coerced is INVALID or not check(value):
                return INVALID
            return coerced

    def explain(value: object, where: str) -> list[tuple[str, str]]:
        shown = _shown(value, secret)
        type_ok = _type_ok(primitive, value)
        msgs: list[str] = []
        enum_msg = c.enum_message(value, shown)
        if enum_msg is not None:
            msgs.append(enum_msg)
        if c.choices is not None and not type_ok:
            msgs.append(f'{shown} is not of type "{json_type}"')
        if type_ok and primitive.is_file and not _is_url(value):  # type: ignore[arg-type]
            msgs.append(f"{shown} is not an http, https or data URL")
        msgs.extend(c.messages(value, shown))
        if c.choices is None and not type_ok:
            msgs.append(f'{shown} is not of type "{json_type}"')
        if type_ok and coerce_primitive(primitive, value) is INVALID and not primitive.is_file:
            msgs.append(f"{shown} is not a finite number")
        return [(where, m) for m in msgs]

    return fast, explain


def list_checker(element: tuple[Fast, Explain], *, secret: bool = False) -> tuple[Fast, Explain]:
    # Constraints of a list input apply to each item (the reference ignores them: ✗).
    # ``secret``: a list[Secret] given a non-list never shows the value either.
    item_fast, item_explain = element

    def fast(value: object) -> object:
        if type(value) is not list:
            return INVALID
        out = [item_fast(item) for item in value]
        return INVALID if INVALID in out else out

    def explain(value: object, where: str) -> list[tuple[str, str]]:
        if type(value) is not list:
            return [(where, f'{_shown(value, secret)} is not of type "array"')]
        found: list[tuple[str, str]] = []
        for index, item in enumerate(value):
            if item_fast(item) is INVALID:
                found.extend(item_explain(item, f"{where}/{index}"))
        return found

    return fast, explain


def _member_fast(member: FieldType) -> tuple[int, Fast]:
    if member.primitive is None or member.primitive.is_file or member.primitive is Primitive.SECRET:
        raise SchemaError(
            "a union input may only combine str, int, float, bool, dict/Any and list[T]",
            hint="Use a single type, or a union of JSON-native types.",
        )
    checker = scalar_checker(member.primitive, NO_CONSTRAINTS)
    if member.primitive is Primitive.FLOAT:
        # A JSON integer matches a float member, and is passed on as the integer it is
        # (`str | float` given 1 is 1, as the reference passes it): only int | float
        # members are told apart, by the exact match first.
        checker = (_union_float, checker[1])
    priority = _UNION_PRIORITY.get(member.primitive, 100)
    if member.is_list:
        checker = list_checker(checker)
        priority += 10
    return priority, checker[0]


def _exact(member: FieldType, value: object) -> bool:
    if member.is_list:
        return type(value) is list
    return _JSON_EXACT.get(member.primitive, type(None)) is type(value)


_JSON_EXACT: Final[dict[Primitive | None, type]] = {
    Primitive.BOOL: bool,
    Primitive.INTEGER: int,
    Primitive.FLOAT: float,
    Primitive.STRING: str,
    Primitive.ANY: dict,
}


def union_checker(members: tuple[FieldType, ...], c: Constraints) -> tuple[Fast, Explain]:
    ranked = sorted(
        ((*_member_fast(m), i, m) for i, m in enumerate(members)), key=lambda r: (r[0], r[2])
    )
    order = [(m, fast) for _, fast, _, m in ranked]

    def pick(value: object) -> object:
        # The exactly matching member wins (3.0 stays a float in int | float), then the
        # first in bool, int, float, str, dict, list order that accepts the value.
        for member, fast in order:
            if _exact(member, value):
                coerced = fast(value)
                if coerced is not INVALID:
                    return coerced
        for member, fast in order:
            if not _exact(member, value):
                coerced = fast(value)
                if coerced is not INVALID:
                    return coerced
        return INVALID

    check = c.predicate()

    def fast(value: object) -> object:
        coerced = pick(value)
        if coerced is INVALID or (check is not None and not check(value)):
            return INVALID
        return coerced

    def explain(value: object, where: str) -> list[tuple[str, str]]:
        shown = render(value)
        msgs: list[str] = []
        enum_msg = c.enum_message(value, shown)
        if enum_msg is not None:
            msgs.append(enum_msg)
        if pick(value) is INVALID:
            msgs.append(
                f"{shown} is not valid under any of the schemas listed in the 'anyOf' keyword"
            )
        msgs.extend(c.messages(value, shown))
        return [(where, m) for m in msgs]

    return fast, explain


def field_checker(spec: InputSpec) -> tuple[Fast, Explain]:
    ftype = spec.type
    c = constraints_of(spec)
    if ftype.union:
        return union_checker(ftype.union, c)
    # A BaseModel is not an input type; treat it as the opaque object it arrives as.
    primitive = ftype.primitive if ftype.primitive is not None else Primitive.ANY
    checker = scalar_checker(primitive, c)
    secret = primitive is Primitive.SECRET
    return list_checker(checker, secret=secret) if ftype.is_list else checker
