"""Values of defaults and Input() keywords, computed from the source without running it.

Literals, module-level constants (here or in a local module), containers of those and
plain arithmetic are decidable; anything else (a function call, an attribute of an
imported object) raises ``Undecided``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

from cog._signature._static_module import Module, Site, Undecided
from cog._signature.model import MISSING, FieldType, InputSpec, Primitive
from cog.errors import SchemaError

_MAX_DEPTH = 20
_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}


def literal(module: Module, at: Site, expr: ast.expr, depth: int = 0) -> object:
    """The JSON value ``expr`` evaluates to (tuples and sets become lists)."""
    if depth > _MAX_DEPTH:
        raise _undecided(module, at, expr)
    if isinstance(expr, ast.Constant):
        if isinstance(expr.value, (bytes, complex)) or expr.value is Ellipsis:
            raise _not_json(at, expr)
        return expr.value
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return [literal(module, at, e, depth + 1) for e in expr.elts]
    if isinstance(expr, ast.Dict):
        return _dict(module, at, expr, depth)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        value = literal(module, at, expr.operand, depth + 1)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(expr.op, ast.USub) else value
        raise _undecided(module, at, expr)
    if isinstance(expr, ast.BinOp) and type(expr.op) in _BINARY:
        left = literal(module, at, expr.left, depth + 1)
        right = literal(module, at, expr.right, depth + 1)
        try:
            return _BINARY[type(expr.op)](left, right)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _undecided(module, at, expr) from exc
    if isinstance(expr, ast.Name):
        found = module.lookup_constant(expr.id)
        if found is not None:
            return literal(found[0], at, found[1], depth + 1)
        if not module.defines(expr.id) and not module.star_import:
            raise SchemaError(
                f"{at.prefix}: '{expr.id}' in the default of '{at.param}' is not defined",
                f"Define {expr.id} at module level in {at.file}, or write the value inline.",
            )
    raise _undecided(module, at, expr)


def _dict(module: Module, at: Site, expr: ast.Dict, depth: int) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in zip(expr.keys, expr.values, strict=True):
        if key is None:
            raise _undecided(module, at, expr)
        name = literal(module, at, key, depth + 1)
        if not isinstance(name, str):
            raise _not_json(at, key)
        result[name] = literal(module, at, value, depth + 1)
    return result


def _undecided(module: Module, at: Site, expr: ast.expr) -> Undecided:
    return Undecided(
        f"{at.prefix}: the value `{ast.unparse(expr)}` for '{at.param}' is computed at "
        f"run time and cannot be read from {module.display}",
        "Cog will import the model to read it; write a literal to avoid that.",
    )


def _not_json(at: Site, expr: ast.expr) -> SchemaError:
    return SchemaError(
        f"{at.prefix}: `{ast.unparse(expr)}` for '{at.param}' is not a JSON value",
        "Use strings, numbers, booleans, None, lists or dicts with string keys.",
    )


def _bad_keyword(at: Site, key: str, wanted: str, value: object) -> SchemaError:
    return SchemaError(
        f"{at.prefix}: Input({key}=...) for '{at.param}' must be {wanted}, not {value!r}",
        f"Pass {wanted} as {key}=.",
    )


def optional_str(at: Site, values: dict[str, object], key: str) -> str | None:
    value = values.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _bad_keyword(at, key, "a string", value)


def optional_bool(at: Site, values: dict[str, object], key: str) -> bool | None:
    value = values.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _bad_keyword(at, key, "True or False", value)


def optional_number(at: Site, values: dict[str, object], key: str) -> float | None:
    value = values.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise _bad_keyword(at, key, "a number", value)


def optional_int(at: Site, values: dict[str, object], key: str) -> int | None:
    value = values.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return value
    raise _bad_keyword(at, key, "a non-negative integer", value)


def optional_choices(at: Site, values: dict[str, object]) -> tuple[str | int | float, ...] | None:
    value = values.get("choices")
    if value is None:
        return None
    if isinstance(value, list) and all(
        isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in value
    ):
        return tuple(value)
    raise _bad_keyword(at, "choices", "a list of strings or integers", value)


def normalize_default(at: Site, ftype: FieldType, value: object) -> object:
    """The default as the runtime holds it (an int for a float input becomes a float).

    A default of the wrong type, or a non-list default for a list input, is the error the
    runtime's worker would raise when it starts, raised here so the build fails instead.
    """
    if value is MISSING or value is None:
        return value
    shown = f"{at.prefix}: input '{at.param}'"
    if not ftype.is_list:
        return _normalize_scalar(shown, ftype.primitive, value)
    if not isinstance(value, list):
        raise SchemaError(
            f"{shown}: the default {value!r} is not a list",
            "Give a list input a list default, for example Input(default=[]).",
        )
    return [_normalize_scalar(shown, ftype.primitive, item) for item in value]


def _normalize_scalar(shown: str, primitive: Primitive | None, value: object) -> object:
    if primitive is Primitive.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    expected = _DEFAULT_TYPES.get(primitive) if primitive is not None else None
    if expected is None:
        return value  # unions and opaque values: the request validator checks them
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        assert primitive is not None
        raise SchemaError(
            f"{shown}: the default {value!r} is not a valid {primitive.value}",
            "Make the default match the input's type annotation.",
        )
    return value


_DEFAULT_TYPES: dict[Primitive, type] = {
    Primitive.BOOL: bool,
    Primitive.INTEGER: int,
    Primitive.FLOAT: float,
    Primitive.STRING: str,
    Primitive.PATH: str,
    Primitive.FILE: str,
    Primitive.SECRET: str,
}


def check_constraints(at: Site, spec: InputSpec) -> None:
    """The checks the reference makes when it loads a model, as errors with a fix."""
    primitive = spec.type.primitive
    shown = f"{at.prefix}: input '{spec.name}'"
    defaults = _defaults(spec)
    if (spec.ge is not None or spec.le is not None) and primitive not in (
        Primitive.INTEGER,
        Primitive.FLOAT,
    ):
        raise SchemaError(f"{shown} has ge/le but is not a number", "Use ge/le on int or float.")
    if spec.ge is not None and any(_lt(d, spec.ge) for d in defaults):
        raise SchemaError(f"{shown}: the default is below ge={spec.ge:g}", "Fix the default.")
    if spec.le is not None and any(_lt(spec.le, d) for d in defaults):
        raise SchemaError(f"{shown}: the default is above le={spec.le:g}", "Fix the default.")
    lengths = spec.min_length is not None or spec.max_length is not None
    if (lengths or spec.regex is not None) and primitive is not Primitive.STRING:
        raise SchemaError(
            f"{shown} has min_length/max_length/regex but is not a string",
            "Use those constraints on str inputs only.",
        )
    _check_lengths(shown, spec, defaults)
    if spec.regex is not None:
        try:
            pattern = re.compile(spec.regex)
        except re.error as exc:
            raise SchemaError(f"{shown}: regex is invalid: {exc}", "Fix the regex.") from exc
        if any(isinstance(d, str) and not pattern.match(d) for d in defaults):
            raise SchemaError(f"{shown}: the default does not match regex", "Fix the default.")
    if spec.choices is not None:
        _check_choices(shown, spec, lengths)


def _check_lengths(shown: str, spec: InputSpec, defaults: list[object]) -> None:
    texts = [d for d in defaults if isinstance(d, str)]
    if spec.min_length is not None and any(len(t) < spec.min_length for t in texts):
        raise SchemaError(
            f"{shown}: the default is shorter than min_length={spec.min_length}",
            "Change the default or the constraint so that the default is allowed.",
        )
    if spec.max_length is not None and any(len(t) > spec.max_length for t in texts):
        raise SchemaError(
            f"{shown}: the default is longer than max_length={spec.max_length}",
            "Change the default or the constraint so that the default is allowed.",
        )


def _check_choices(shown: str, spec: InputSpec, lengths: bool) -> None:
    primitive = spec.type.primitive
    assert spec.choices is not None
    # list[str]/list[int] may have choices too: each element must be one of them.
    if primitive not in (Primitive.STRING, Primitive.INTEGER):
        raise SchemaError(f"{shown} has choices but is not a str or int", "Use choices on str/int.")
    if len(spec.choices) < 2:
        raise SchemaError(f"{shown}: choices must have at least 2 elements", "Add choices.")
    if spec.ge is not None or spec.le is not None or lengths:
        raise SchemaError(
            f"{shown}: choices cannot be combined with ge/le or min_length/max_length",
            "Keep choices and drop the other constraints.",
        )
    expected = str if primitive is Primitive.STRING else int
    if not all(type(c) is expected for c in spec.choices):
        raise SchemaError(
            f"{shown}: not all choices have the input's type ({expected.__name__})",
            "Make every choice the same type as the input.",
        )


def default_values(spec: InputSpec) -> list[object]:
    """The default's values: none, one, or each item of a list default."""
    return _defaults(spec)


def _defaults(spec: InputSpec) -> list[object]:
    if spec.default is MISSING or spec.default is None:
        return []
    return list(spec.default) if isinstance(spec.default, list) else [spec.default]


def _lt(left: object, right: object) -> bool:
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left < right
    return False
