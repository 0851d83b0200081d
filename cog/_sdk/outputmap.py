"""Map a return annotation to the signature IR's ``OutputSpec``.

Outputs are what the reference's schema describes: a value, a BaseModel or TypedDict (an
object with its fields), a list of those, an iterator of those (or of lists of them), a
union of them (``anyOf``), or an ``Optional`` one (nullable). Each rejected pattern raises
``SchemaError`` naming where it was found and the supported way to write it.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from collections.abc import AsyncIterator, Iterator
from typing import Any

from cog._compat import is_typeddict, type_hints
from cog._sdk.typemap import (
    _fail,
    _field,
    _is_list,
    _is_model_class,
    _is_none,
    _is_union,
    _list_element,
    _opaque_inner,
    _opaque_shape,
    _scalar,
    type_name,
)
from cog._sdk.value_types import AsyncConcatenateIterator, ConcatenateIterator
from cog._signature.model import FieldType, ModelSpec, OutputKind, OutputSpec, Primitive

__all__ = ["model_spec", "output_spec"]

_MISSING = dataclasses.MISSING


def output_spec(tp: object, where: str, warnings: list[str]) -> OutputSpec:
    """The OutputSpec of a return annotation; appends advice to ``warnings``."""
    inner, opaque = _opaque_inner(tp)
    if opaque:
        shape = _opaque_shape(inner)
        if shape.nullable:
            raise _fail(
                where,
                f"return type {type_name(tp)} is not supported: "
                "Optional is not allowed inside Opaque as a top-level return type",
                "Return Optional[Annotated[T, Opaque]] instead.",
            )
        kind = OutputKind.LIST if shape.is_list else OutputKind.SINGLE
        return OutputSpec(FieldType(primitive=Primitive.ANY), kind)
    tp = inner
    if tp is Any:
        warnings.append(f"{where}: Any as output type is error-prone and highly discouraged")
        return OutputSpec(FieldType(primitive=Primitive.ANY))
    if _is_union(tp):
        return OutputSpec(_union_output(tp, where))
    iterator = _iterator_kind(tp)
    if iterator is not None:
        return OutputSpec(_iterator_element(tp, iterator, where), iterator)
    if _is_list(tp):
        return OutputSpec(dataclasses.replace(_value(tp, where), is_list=False), OutputKind.LIST)
    return OutputSpec(_value(tp, where))


def _is_object_class(tp: object) -> bool:
    return _is_model_class(tp) or is_typeddict(tp)


def _value(tp: object, where: str) -> FieldType:
    """One output value: a scalar, a model or TypedDict, or a flat list of those."""
    inner, opaque = _opaque_inner(tp)
    if opaque:
        return _opaque_shape(inner)
    if _is_object_class(inner):
        assert isinstance(inner, type)
        return FieldType(model=model_spec(inner, where))
    if _is_list(inner):
        args = typing.get_args(inner)
        # Annotated[Model, "doc"] is still the model; only Opaque hides it.
        element, hidden = _opaque_inner(args[0]) if args else (None, False)
        if not hidden and _is_object_class(element):
            assert isinstance(element, type)
            return FieldType(model=model_spec(element, where), is_list=True)
        return _list_element(inner, where)
    if _is_union(inner):
        raise _fail(where, f"nested union {type_name(tp)}", "Flatten it: A | B | C.")
    if _iterator_kind(inner) is not None:
        raise _fail(
            where,
            f"{type_name(tp)} is not supported here: an iterator must be the whole return type",
            "Return Iterator[T] itself.",
        )
    return _scalar(inner, where)


def _union_output(tp: object, where: str) -> FieldType:
    members = typing.get_args(tp)
    others = [m for m in members if not _is_none(m)]
    nullable = len(others) < len(members)
    if len(others) == 1:
        return dataclasses.replace(_value(others[0], where), nullable=True)
    return FieldType(union=tuple(_value(m, where) for m in others), nullable=nullable)


def _iterator_kind(tp: object) -> OutputKind | None:
    origin = typing.get_origin(tp) or tp
    if origin in (ConcatenateIterator, AsyncConcatenateIterator):
        return OutputKind.CONCATENATE_ITERATOR
    if origin in (Iterator, AsyncIterator):
        return OutputKind.ITERATOR
    return None


def _iterator_element(tp: object, kind: OutputKind, where: str) -> FieldType:
    args = typing.get_args(tp)
    if len(args) != 1:
        raise _fail(where, f"{type_name(tp)} needs its element type", "Write e.g. Iterator[str].")
    element, opaque = _opaque_inner(args[0])
    if opaque:
        return FieldType(primitive=Primitive.ANY)
    if _is_union(element):
        raise _fail(
            where,
            f"{type_name(tp)}: an iterator's element type must not be Optional or a union",
            "Yield one value (str, int, float, bool, cog.Path, a BaseModel or a list of "
            "those) per item.",
        )
    if kind is OutputKind.ITERATOR:
        return _value(element, where)
    field = _scalar(element, where)
    if field.primitive is not Primitive.STRING:
        raise _fail(
            where,
            f"{type_name(tp)} must have str elements",
            "Use ConcatenateIterator[str], or Iterator[T] for other element types.",
        )
    return field


def model_spec(cls: type, where: str) -> ModelSpec:
    """The fields of a cog/pydantic BaseModel or a TypedDict output, in declaration order."""
    try:
        hints = type_hints(cls)
    except NameError as error:
        raise _fail(
            where,
            f"cannot resolve a field type of {cls.__qualname__}: {error}",
            "Import every type its fields use.",
        ) from None
    names, defaults, optional = _field_names(cls, hints)
    fields = []
    for name in names:
        at = f"{where}: field {name!r} of {cls.__qualname__}"
        annotation = _required_marker_inner(hints.get(name, Any))
        inner, _ = _opaque_inner(annotation)
        candidates = typing.get_args(inner) if _is_union(inner) else (inner,)
        if any(_is_model_class(c) for c in candidates):
            raise _fail(
                at,
                f"nested BaseModel {type_name(annotation)} is not supported",
                "Flatten its fields into the output model, or type the field as dict.",
            )
        fields.append((name, _field(annotation, at, unions=False)))
    return ModelSpec(cls.__name__, tuple(fields), tuple(defaults.items()), tuple(optional))


def _required_marker_inner(tp: object) -> object:
    """A TypedDict key's ``Required[T]`` / ``NotRequired[T]`` is T (``__required_keys__``
    already tells which keys are required)."""
    origin = typing.get_origin(tp)
    if getattr(origin, "_name", None) in ("Required", "NotRequired"):
        return typing.get_args(tp)[0]
    return tp


def _field_names(
    cls: type, hints: dict[str, Any]
) -> tuple[list[str], dict[str, object], list[str]]:
    """The field names, their JSON defaults, and the names optional without a default."""
    defaults: dict[str, object] = {}
    optional: list[str] = []
    if is_typeddict(cls):
        required = getattr(cls, "__required_keys__", frozenset(hints))
        names = list(hints)
        optional = [n for n in names if n not in required]
    elif dataclasses.is_dataclass(cls):
        names = []
        for item in dataclasses.fields(cls):
            names.append(item.name)
            if item.default is not _MISSING:
                _add_default(item.name, item.default, defaults, optional)
            elif item.default_factory is not _MISSING:
                optional.append(item.name)
    elif hasattr(cls, "model_fields"):
        names = list(cls.model_fields)
        for name, info in cls.model_fields.items():
            if info.default_factory is not None:
                optional.append(name)
            elif not info.is_required():
                _add_default(name, info.default, defaults, optional)
    else:
        names = [n for n, t in hints.items() if typing.get_origin(t) is not typing.ClassVar]
    return names, defaults, optional


def _add_default(
    name: str, value: object, defaults: dict[str, object], optional: list[str]
) -> None:
    """A JSON default is written in the document; any other makes the field optional."""
    value = _json_default(value)
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        optional.append(name)
    else:
        defaults[name] = value


def _json_default(value: object) -> object:
    """A default as the document writes it (tuples as lists, enums by value)."""
    if isinstance(value, (list, tuple)):
        return [_json_default(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_default(item) for key, item in value.items()}
    return value.value if isinstance(value, enum.Enum) else value
