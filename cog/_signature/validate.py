"""A request's ``input`` becomes typed keyword arguments, or the contract's 422 body.

Shared by the runtime (every prediction) and the CLI (``cog run -i``). Behaviour and
messages are those of the reference server (coglet 0.23.1), observed by running it:

- Unknown fields are accepted and ignored (not passed to the model).
- ``input`` absent or ``null`` is an empty object; any other non-object is one entry at
  ``["body","input","__root__"]``.
- Entries for fields with a wrong value come first, sorted by field name (the reference's
  JSON Schema validator walks properties in sorted order), then one ``Field required``
  entry per missing field in signature order. One field may yield several entries (a
  value outside ``choices`` and of the wrong type gets both). A list item's ``loc`` names
  it ``"field/index"``.
- Messages are the reference's (``"3" is not of type "integer"``, ``0 is less than the
  minimum of 1``), type ``value_error``; missing fields ``value_error.missing``.

Where the reference is wrong this module does better (the README says so):
- ``null`` is accepted for an Optional input or one whose default is None (the reference
  rejects it with ``null is not of type ...``, ignoring ``nullable``).
- A Secret's value never appears in a message (the reference echoes it).
- Path/File inputs must be http, https or data URLs (the reference opens any string as a
  local path inside the container).
- Constraints declared on a list input apply to each item (the reference ignores them).
- Values are passed as the declared type: ``3.0`` for an int is ``3``, ``3`` for a float
  is ``3.0`` (the reference passes the JSON number through unchanged).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from cog._compat import SLOTS
from cog._signature._coerce import INVALID, Explain, Fast, field_checker
from cog._signature._jsonrender import render
from cog._signature.model import MISSING, InputSpec, Signature
from cog.errors import CogError

__all__ = [
    "InputValidationError",
    "InputValidator",
    "ValidationIssue",
    "body_not_object",
    "invalid_json_body",
    "render_issues",
    "request_validation_error",
    "validate_input",
]

_INPUT_LOC: Final = ("body", "input")
_TYPE_INVALID: Final = "value_error"
_TYPE_MISSING: Final = "value_error.missing"
_ABSENT: Final = object()


@dataclass(frozen=True)
class ValidationIssue:
    loc: tuple[str | int, ...]
    msg: str
    type: str


class InputValidationError(CogError):
    """The request's input does not fit the model's signature (HTTP 422)."""

    def __init__(self, issues: tuple[ValidationIssue, ...]) -> None:
        super().__init__(
            "Invalid input:\n" + render_issues(issues),
            hint="Fix the inputs named above; the model's inputs and their types are in its"
            " OpenAPI schema (GET /openapi.json).",
        )
        self.issues = issues

    def body(self) -> bytes:
        """The 422 response body, byte for byte as the reference writes it."""
        detail = [{"loc": list(i.loc), "msg": i.msg, "type": i.type} for i in self.issues]
        text = json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":"))
        # A lone surrogate (which json.loads lets through) cannot be UTF-8: keep it escaped.
        return text.encode("utf-8", "backslashreplace")


def request_validation_error(
    loc: tuple[str | int, ...],
    msg: str,
    type: str,
) -> InputValidationError:
    """One issue about the request itself, e.g. a body that is not JSON."""
    return InputValidationError((ValidationIssue(tuple(loc), msg, type),))


def invalid_json_body(exc: json.JSONDecodeError) -> InputValidationError:
    """A body that does not parse (the reference answers 400 with plain text: ✗)."""
    return request_validation_error(
        ("body", exc.pos), f"JSON decode error: {exc.msg}", "value_error.jsondecode"
    )


def body_not_object(body: object) -> InputValidationError:
    """A body that parses but is not a JSON object (the reference answers plain text: ✗)."""
    return request_validation_error(
        ("body",), f'{render(body)} is not of type "object"', _TYPE_INVALID
    )


def render_issues(issues: Iterable[ValidationIssue]) -> str:
    """One line per issue for the CLI, e.g. ``prompt: Field required``."""
    return "\n".join(f"{_label(issue.loc)}: {issue.msg}" for issue in issues)


def _label(loc: tuple[str | int, ...]) -> str:
    if loc[:2] == _INPUT_LOC:
        rest = [str(part) for part in loc[2:] if part != "__root__"]
        return ".".join(rest) if rest else "input"
    return "request body" if loc[:1] == ("body",) else ".".join(str(p) for p in loc)


@dataclass(frozen=True, **SLOTS)
class _Field:
    name: str
    fast: Fast
    explain: Explain
    required: bool
    accept_null: bool
    default: object
    copy_default: bool


def _compile_field(spec: InputSpec) -> _Field:
    fast, explain = field_checker(spec)
    nullable = spec.type.nullable or any(m.nullable for m in spec.type.union)
    default: object = spec.default
    # Optional[T] without a default defaults to None, as the reference documents.
    required = default is MISSING and not nullable
    if default is MISSING:
        default = None
    elif default is not None:
        raw = list(default) if isinstance(default, tuple) else default
        coerced = fast(raw)
        # A default the checker refuses (a local path for a Path) is the model's own
        # business: pass it as written.
        default = raw if coerced is INVALID else coerced
    return _Field(
        name=spec.name,
        fast=fast,
        explain=explain,
        required=required,
        accept_null=nullable or spec.default is None,
        default=default,
        copy_default=isinstance(default, (list, dict)),
    )


class InputValidator:
    """The compiled checks of one signature; :meth:`validate` runs on every prediction."""

    def __init__(self, sig: Signature) -> None:
        self._fields = tuple(_compile_field(spec) for spec in sig.inputs)
        # Plain tuples for the hot loop: unpacking is cheaper than attribute access.
        self._plan = tuple(
            (f.name, f.fast, f.required, f.accept_null, f.default, f.copy_default)
            for f in self._fields
        )

    def validate(self, payload: object) -> dict[str, object]:
        if type(payload) is not dict:
            if payload is not None:
                issue = ValidationIssue(
                    (*_INPUT_LOC, "__root__"),
                    f'{render(payload)} is not of type "object"',
                    _TYPE_INVALID,
                )
                raise InputValidationError((issue,))
            payload = {}
        assert isinstance(payload, dict)
        get = payload.get
        out: dict[str, object] = {}
        for name, fast, required, accept_null, default, copy_default in self._plan:
            value = get(name, _ABSENT)
            if value is _ABSENT:
                if required:
                    raise self._error(payload)
                out[name] = copy.deepcopy(default) if copy_default else default
            elif value is None and accept_null:
                out[name] = None
            else:
                coerced = fast(value)
                if coerced is INVALID:
                    raise self._error(payload)
                out[name] = coerced
        return out

    def _error(self, payload: dict[str, object]) -> InputValidationError:
        wrong: list[tuple[str, list[tuple[str, str]]]] = []
        missing: list[ValidationIssue] = []
        for field in self._fields:
            if field.name not in payload:
                if field.required:
                    missing.append(
                        ValidationIssue((*_INPUT_LOC, field.name), "Field required", _TYPE_MISSING)
                    )
                continue
            value = payload[field.name]
            if (value is None and field.accept_null) or field.fast(value) is not INVALID:
                continue
            found = field.explain(value, field.name) or [(field.name, "invalid value")]
            wrong.append((field.name, found))
        wrong.sort(key=lambda entry: entry[0])
        issues = [
            ValidationIssue((*_INPUT_LOC, where), msg, _TYPE_INVALID)
            for _, found in wrong
            for where, msg in found
        ]
        return InputValidationError((*issues, *missing))


_CACHE_LIMIT: Final = 64
_cache: dict[int, tuple[Signature, InputValidator]] = {}


def validate_input(sig: Signature, payload: object) -> dict[str, object]:
    """The keyword arguments for the entry point, or InputValidationError.

    ``payload`` is the request's ``input`` as ``json.loads`` returns it.
    """
    entry = _cache.get(id(sig))
    if entry is None or entry[0] is not sig:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        entry = (sig, InputValidator(sig))
        _cache[id(sig)] = entry
    return entry[1].validate(payload)
