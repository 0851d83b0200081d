"""Render JSON values inside validation messages exactly as the reference server does.

The reference (coglet 0.23) validates with a Rust JSON Schema library and puts the
offending value into the message through serde_json's compact ``Display``: object keys
sorted, no spaces, non-ASCII kept, and floats in Rust's shortest form (``1e-7``,
``0.00001``, ``1e+20``, ``3.0``), which differs from Python's ``repr`` (``1e-07``,
``1e-05``, ``1e+20``, ``3.0``). Bounds and choices come from the OpenAPI document the
reference CLI writes with Go's encoding/json, where an integral float such as ``1.0`` is
written ``1``; :func:`render_schema_number` reproduces that round trip.
"""

from __future__ import annotations

import json
import math
from typing import Final

_I64_MIN = -(2**63)
_U64_MAX = 2**64 - 1
# Go's encoding/json switches to exponent notation at 1e21; below it an integral float is
# written without a fraction, and serde_json reads it back as an integer when it fits.
_GO_PLAIN_LIMIT = 1e21

_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def render_float(x: float) -> str:
    if not math.isfinite(x):
        return repr(x)  # never in valid JSON; only reachable through Python's lenient parser
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    text = repr(x)  # shortest round-trip digits, like Rust's
    sign = ""
    if text[0] == "-":
        sign, text = "-", text[1:]
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    power = point - 1
    if -5 <= power < 16:
        if point <= 0:
            body = "0." + "0" * -point + digits
        elif point >= len(digits):
            body = digits + "0" * (point - len(digits)) + ".0"
        else:
            body = digits[:point] + "." + digits[point:]
    else:
        body = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        body += "e" + ("-" if power < 0 else "+") + str(abs(power))
    return sign + body


def render_int(n: int) -> str:
    if _I64_MIN <= n <= _U64_MAX:
        return str(n)
    try:
        return render_float(float(n))  # serde_json keeps only 64-bit integers exact
    except OverflowError:
        return str(n)


def render_string(s: str) -> str:
    return _encode_string(s)


def _render_list(value: list[object] | tuple[object, ...]) -> str:
    return "[" + ",".join(render(item) for item in value) + "]"


def _render_dict(value: dict[object, object]) -> str:
    # serde_json's map is ordered by key.
    items = sorted((str(k), v) for k, v in value.items())
    return "{" + ",".join(f"{render_string(k)}:{render(v)}" for k, v in items) + "}"


_CONSTANTS: Final = {None: "null", True: "true", False: "false"}


def render(value: object) -> str:
    """A JSON value (as ``json.loads`` returns it) the way serde_json displays it."""
    if value is None or type(value) is bool:
        return _CONSTANTS[value]
    if isinstance(value, str):
        return render_string(value)
    if isinstance(value, int):
        return render_int(value)
    if isinstance(value, float):
        return render_float(value)
    return _render_container(value)


def _render_container(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return _render_list(value)
    if isinstance(value, dict):
        return _render_dict(value)
    return render_string(str(value))


def render_schema_number(x: float) -> str:
    """A bound or choice as it reads after the Go writer and the Rust reader."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return render_int(x)
    if math.isfinite(x) and x.is_integer() and abs(x) < _GO_PLAIN_LIMIT:
        return render_int(int(x))
    return render_float(x)


def render_choices(choices: tuple[str | int | float, ...]) -> str:
    parts = (render_string(c) if isinstance(c, str) else render_schema_number(c) for c in choices)
    return "[" + ",".join(parts) + "]"
