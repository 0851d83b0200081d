"""Build one ``InputSpec`` from a parameter: its type, its default and its Input() constraints.

Constraint checks follow the reference: each constraint must suit the input's type, and a
default must satisfy them, so a model that could never accept its own default fails early.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from typing import Final

from cog._sdk.input import InputInfo
from cog._sdk.typemap import input_type, literal_choices
from cog._signature.model import MISSING, FieldType, InputSpec, Primitive
from cog.errors import SchemaError

__all__ = ["input_spec"]

_NUMERIC: Final = (Primitive.INTEGER, Primitive.FLOAT)
_CHOICE_TYPES: Final = {Primitive.STRING: (str,), Primitive.INTEGER: (int,)}


def input_spec(
    name: str, annotation: object, default: object, where: str, warnings: list[str]
) -> InputSpec:
    """``default`` is the parameter's default as written: MISSING, a value, or InputInfo.

    Problems the reference tolerates at build time but that will bite at run time are
    appended to ``warnings`` instead of raised.
    """
    at = f"{where} input {name!r}"
    annotation, literal = literal_choices(annotation, at)
    ftype = input_type(annotation, at)
    info = default if isinstance(default, InputInfo) else InputInfo(default=default)
    _check_keyword_types(info, at)
    if literal is not None:
        if info.choices is not None:
            raise SchemaError(
                f"{at}: a Literal[...] input cannot also have Input(choices=...)",
                "Keep the Literal values and drop choices=, or use str with choices=.",
            )
        info = dataclasses.replace(info, choices=list(literal))
    if info.accept is not None and ftype.primitive not in (Primitive.PATH, Primitive.FILE):
        warnings.append(f"{at}: Input(accept=...) only means something for Path/File inputs")
    value = _normalize_default(info.default, ftype, at)
    _check_constraints(info, ftype, value, at)
    choices = _choices(info)
    outside = [v for v in _default_values(value) if choices is not None and v not in choices]
    if outside:
        warnings.append(
            f"{at}: default {outside[0]!r} is not one of the choices {list(choices or ())!r}, "
            "so a request that leaves it out will be rejected"
        )
    return InputSpec(
        name=name,
        type=ftype,
        default=value,
        description=info.description,
        ge=None if info.ge is None else float(info.ge),
        le=None if info.le is None else float(info.le),
        min_length=info.min_length,
        max_length=info.max_length,
        regex=info.regex,
        choices=choices,
        deprecated=info.deprecated,
        accept=info.accept,
    )


def _check_keyword_types(info: InputInfo, at: str) -> None:
    """Input()'s own arguments have the types it documents (as the static reader checks)."""
    checks: tuple[tuple[str, object, str, bool], ...] = (
        ("description", info.description, "a string", isinstance(info.description, str)),
        ("regex", info.regex, "a string", isinstance(info.regex, str)),
        ("accept", info.accept, "a string", isinstance(info.accept, str)),
        ("deprecated", info.deprecated, "True or False", isinstance(info.deprecated, bool)),
        ("ge", info.ge, "a number", _is_number(info.ge)),
        ("le", info.le, "a number", _is_number(info.le)),
        ("min_length", info.min_length, "a non-negative integer", _is_length(info.min_length)),
        ("max_length", info.max_length, "a non-negative integer", _is_length(info.max_length)),
    )
    for key, value, wanted, ok in checks:
        if value is not None and not ok:
            raise SchemaError(
                f"{at}: Input({key}=...) must be {wanted}, not {value!r}",
                f"Pass {wanted} as {key}=",
            )


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_length(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _choices(info: InputInfo) -> tuple[str | int | float, ...] | None:
    if info.choices is None:
        return None
    return tuple(typing.cast("str | int | float", _plain(c)) for c in info.choices)


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


def _json_shape(value: object) -> object:
    """Tuples as lists, all the way down: the value a JSON default will be read back as."""
    if isinstance(value, (list, tuple)):
        return [_json_shape(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_shape(item) for key, item in value.items()}
    return value


def _normalize_default(value: object, ftype: FieldType, at: str) -> object:
    if value is MISSING or value is None:
        return value
    value = _json_shape(_plain(value))
    if ftype.is_list:
        if not isinstance(value, (list, tuple)):
            raise SchemaError(
                f"{at}: default {value!r} is not a list",
                "Give a list input a list default, e.g. Input(default=[]).",
            )
        return [_normalize_scalar(_plain(item), ftype, at) for item in value]
    return _normalize_scalar(value, ftype, at)


def _normalize_scalar(value: object, ftype: FieldType, at: str) -> object:
    primitive = ftype.primitive
    ok: bool
    if primitive is Primitive.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if primitive is Primitive.BOOL:
        ok = isinstance(value, bool)
    elif primitive is Primitive.INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif primitive is Primitive.FLOAT:
        ok = isinstance(value, float)
    elif primitive in (Primitive.STRING, Primitive.PATH, Primitive.FILE, Primitive.SECRET):
        ok = isinstance(value, str)
    else:
        ok = True  # unions and opaque values: the request validator checks them
    if not ok:
        expected = primitive.value if primitive is not None else "value"
        raise SchemaError(
            f"{at}: default {value!r} is not a valid {expected}",
            "Make the default match the input's type annotation.",
        )
    return value


def _check_constraints(info: InputInfo, ftype: FieldType, default: object, at: str) -> None:
    primitive = ftype.primitive
    defaults = _default_values(default)
    if info.ge is not None or info.le is not None:
        if primitive not in _NUMERIC:
            raise _incompatible(at, "ge/le", "int or float")
        for item in defaults:
            assert isinstance(item, (int, float))
            if info.ge is not None and item < info.ge:
                raise SchemaError(f"{at}: default {item!r} is below ge={info.ge}", _FIX_DEFAULT)
            if info.le is not None and item > info.le:
                raise SchemaError(f"{at}: default {item!r} is above le={info.le}", _FIX_DEFAULT)
    if info.min_length is not None or info.max_length is not None:
        if primitive is not Primitive.STRING:
            raise _incompatible(at, "min_length/max_length", "str")
        for item in defaults:
            assert isinstance(item, str)
            if info.min_length is not None and len(item) < info.min_length:
                raise SchemaError(
                    f"{at}: default conflicts with min_length={info.min_length}", _FIX_DEFAULT
                )
            if info.max_length is not None and len(item) > info.max_length:
                raise SchemaError(
                    f"{at}: default conflicts with max_length={info.max_length}", _FIX_DEFAULT
                )
    if info.regex is not None:
        _check_regex(info.regex, primitive, defaults, at)
    if info.choices is not None:
        _check_choices(info, primitive, at)


_FIX_DEFAULT: Final = "Change the default or the constraint so that the default is allowed."


def _default_values(default: object) -> list[object]:
    if default is MISSING or default is None:
        return []
    return list(default) if isinstance(default, list) else [default]


def _incompatible(at: str, constraint: str, types: str) -> SchemaError:
    return SchemaError(
        f"{at}: {constraint} only applies to {types} inputs",
        f"Remove {constraint} from Input(), or change the input's type to {types}.",
    )


def _check_regex(regex: str, primitive: Primitive | None, defaults: list[object], at: str) -> None:
    if primitive is not Primitive.STRING:
        raise _incompatible(at, "regex", "str")
    try:
        pattern = re.compile(regex)
    except re.error as error:
        raise SchemaError(f"{at}: regex {regex!r} is invalid: {error}", "Fix the regex.") from None
    for item in defaults:
        if not pattern.match(str(item)):
            raise SchemaError(
                f"{at}: default {item!r} does not match regex {regex!r}", _FIX_DEFAULT
            )


def _check_choices(info: InputInfo, primitive: Primitive | None, at: str) -> None:
    assert info.choices is not None
    if primitive not in _CHOICE_TYPES:
        raise _incompatible(at, "choices", "str or int")
    choices = [_plain(c) for c in info.choices]
    if len(choices) < 2:
        raise SchemaError(
            f"{at}: choices={choices!r} must have at least 2 elements",
            "Offer two or more choices, or drop choices and use a fixed value.",
        )
    if info.ge is not None or info.le is not None:
        raise SchemaError(f"{at}: choices and ge/le are mutually exclusive", "Keep one of them.")
    if info.min_length is not None or info.max_length is not None:
        raise SchemaError(
            f"{at}: choices and min_length/max_length are mutually exclusive", "Keep one of them."
        )
    allowed = _CHOICE_TYPES[primitive]
    if not all(isinstance(c, allowed) and not isinstance(c, bool) for c in choices):
        raise SchemaError(
            f"{at}: not all choices have the same type as the input ({primitive.value})",
            "Make every choice a value of the input's type.",
        )
