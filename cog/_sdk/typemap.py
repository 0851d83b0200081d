"""Map a model's Python annotations to the signature IR's ``FieldType`` / ``OutputSpec``.

Each rejected pattern raises ``SchemaError`` naming where it was found (``where``), what is
wrong, and the supported way to write it. The limits are the reference's documented ones
where its runtime enforces them too; where the runtime is more lenient than its docs
(``Optional[list[T]]``, a list or iterator of BaseModel outputs) the lenient reading wins,
so that the static reader and this one agree on every model the reference runs.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import typing
from typing import Any, Final, Literal

from cog._compat import ANNOTATED, UNION_ORIGINS, is_typeddict
from cog._sdk.base_model import BaseModel
from cog._sdk.value_types import File, Secret, _OpaqueMarker
from cog._signature.model import FieldType, Primitive
from cog.errors import SchemaError

__all__ = ["input_type", "literal_choices", "type_name"]

_JSON_NATIVE: Final = frozenset(
    {Primitive.STRING, Primitive.INTEGER, Primitive.FLOAT, Primitive.BOOL, Primitive.ANY}
)
_SCALARS: Final[dict[object, Primitive]] = {
    str: Primitive.STRING,
    int: Primitive.INTEGER,
    float: Primitive.FLOAT,
    bool: Primitive.BOOL,
    Secret: Primitive.SECRET,
    Any: Primitive.ANY,
}
_OTHER_COLLECTIONS: Final = (tuple, set, frozenset)
_SUPPORTED = "str, int, float, bool, cog.Path, cog.File, cog.Secret, dict, list[T] or Optional[T]"


def type_name(tp: object) -> str:
    """A readable spelling of an annotation for messages (``list[str]``, ``Path``)."""
    if tp is type(None) or tp is None:
        return "None"
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__qualname__
    return str(tp).replace("typing.", "").replace("cog._sdk.value_types.", "")


def _fail(where: str, problem: str, hint: str) -> SchemaError:
    return SchemaError(f"{where}: {problem}", hint)


def _is_union(tp: object) -> bool:
    return typing.get_origin(tp) in UNION_ORIGINS


def _is_none(tp: object) -> bool:
    return tp is None or tp is type(None)


def _opaque_inner(tp: object) -> tuple[object, bool]:
    """``(T, True)`` for ``Annotated[T, cog.Opaque, ...]``; other Annotated metadata is dropped."""
    while typing.get_origin(tp) is ANNOTATED:
        inner, *metadata = typing.get_args(tp)
        if any(isinstance(item, _OpaqueMarker) for item in metadata):
            return inner, True
        tp = inner
    return tp, False


def _is_model_class(tp: object) -> bool:
    if not isinstance(tp, type):
        return False
    if issubclass(tp, BaseModel):
        return True
    try:
        import pydantic  # noqa: PLC0415 (only models that use pydantic need it loaded)
    except ImportError:  # pragma: no cover - pydantic is a dependency of this package
        return False
    return issubclass(tp, pydantic.BaseModel)


def _is_dict_like(tp: object) -> bool:
    return tp is dict or typing.get_origin(tp) is dict or is_typeddict(tp)


def _scalar(tp: object, where: str) -> FieldType:
    """A type with no list, union or None around it."""
    tp, opaque = _opaque_inner(tp)
    if opaque or _is_dict_like(tp):
        return FieldType(primitive=Primitive.ANY)
    if tp in _SCALARS:
        return FieldType(primitive=_SCALARS[tp])
    if isinstance(tp, type):
        if issubclass(tp, File):
            return FieldType(primitive=Primitive.FILE)
        if issubclass(tp, Secret):
            return FieldType(primitive=Primitive.SECRET)
        if issubclass(tp, os.PathLike):
            return FieldType(primitive=Primitive.PATH)
        if issubclass(tp, enum.Enum):
            raise _fail(
                where,
                f"enum type {type_name(tp)} is not supported",
                "Use str or int with Input(choices=[...]) instead.",
            )
    origin = typing.get_origin(tp) or tp
    if origin in _OTHER_COLLECTIONS:
        raise _fail(
            where,
            f"{type_name(tp)} is not supported: only list and dict are supported collections",
            "Use list[T] for a sequence, or dict for an opaque JSON object.",
        )
    if _is_model_class(tp):
        raise _fail(
            where,
            f"BaseModel type {type_name(tp)} is not supported here",
            "A BaseModel can be an output (alone, in a list or an iterator) but not an "
            "input or a field; use dict for a JSON object.",
        )
    raise _fail(where, f"unsupported type {type_name(tp)}", f"Use one of: {_SUPPORTED}.")


def _list_element(tp: object, where: str) -> FieldType:
    """``list[T]``'s T: a scalar (dict-like and Opaque elements become opaque objects)."""
    args = typing.get_args(tp)
    if not args:
        return FieldType(primitive=Primitive.ANY, is_list=True)
    element = args[0]
    inner, opaque = _opaque_inner(element)
    if opaque or _is_dict_like(inner):
        return FieldType(primitive=Primitive.ANY, is_list=True)
    if typing.get_origin(inner) is not None:
        raise _fail(
            where,
            f"{type_name(tp)} is not supported: nested generics "
            "(list[list[T]], list[Optional[T]]) are not supported",
            "Use a flat list[T] of a plain type, or Annotated[..., cog.Opaque] for JSON values.",
        )
    return dataclasses.replace(_scalar(inner, where), is_list=True)


def _is_list(tp: object) -> bool:
    return tp is list or typing.get_origin(tp) is list


def _opaque_shape(inner: object, *, nullable: bool = False) -> FieldType:
    """``Annotated[T, Opaque]``: an opaque object keeping T's list and Optional shape."""
    if _is_union(inner):
        members = typing.get_args(inner)
        others = [m for m in members if not _is_none(m)]
        nullable = nullable or len(others) < len(members)
        inner = others[0] if len(others) == 1 else inner
    return FieldType(primitive=Primitive.ANY, is_list=_is_list(inner), nullable=nullable)


def _plain(tp: object, where: str) -> FieldType:
    """A scalar or list[scalar] (no union; nullable only from inside an Opaque)."""
    inner, opaque = _opaque_inner(tp)
    if opaque:
        return _opaque_shape(inner)
    if _is_list(inner):
        return _list_element(inner, where)
    return _scalar(inner, where)


def _optional(member: object, where: str) -> FieldType:
    """``Optional[T]``: T is a scalar or a flat list (the reference accepts list[T] | None)."""
    inner, opaque = _opaque_inner(member)
    if opaque:
        return _opaque_shape(inner, nullable=True)
    if _is_list(inner):
        return dataclasses.replace(_list_element(inner, where), nullable=True)
    return dataclasses.replace(_scalar(inner, where), nullable=True)


def input_type(tp: object, where: str) -> FieldType:
    """The FieldType of an input; BaseModel fields use the same rules without unions."""
    return _field(tp, where, unions=True)


def _field(tp: object, where: str, *, unions: bool) -> FieldType:
    tp, opaque = _opaque_inner(tp)
    if opaque:
        return _opaque_shape(tp)
    if _is_none(tp):
        raise _fail(where, "None is not a type an input can have", f"Use one of: {_SUPPORTED}.")
    if not _is_union(tp):
        return _plain(tp, where)
    members = typing.get_args(tp)
    nullable = any(_is_none(m) for m in members)
    others = [m for m in members if not _is_none(m)]
    if len(others) == 1:
        return _optional(others[0], where)
    if not unions:
        raise _fail(
            where,
            f"union type {type_name(tp)} is not supported in a BaseModel field",
            "Use one type per field (Optional[T] is fine), or dict for free-form JSON.",
        )
    variants = tuple(_union_member(m, tp, where) for m in others)
    return FieldType(union=variants, nullable=nullable)


def _union_member(member: object, union: object, where: str) -> FieldType:
    inner, _ = _opaque_inner(member)
    if _is_union(inner):
        raise _fail(where, f"nested union in {type_name(union)}", "Flatten it: A | B | C.")
    if _is_model_class(inner) or _plain(member, where).primitive not in _JSON_NATIVE:
        raise _fail(
            where,
            f"union {type_name(union)} has member {type_name(member)}: unions involving "
            "Path, File, Secret or BaseModel are not supported",
            "Union members must be JSON-native (str, int, float, bool, dict, list[T], None); "
            "use a separate input for the file or secret.",
        )
    return _plain(member, where)


def literal_choices(tp: object, where: str) -> tuple[object, tuple[str | int, ...] | None]:
    """``Literal["a", "b"]`` (or an Optional one) as ``(str, ("a", "b"))``: its base type and
    its values, which the input takes as its choices. Other annotations come back unchanged."""
    members = typing.get_args(tp) if _is_union(tp) else (tp,)
    literals = [m for m in members if typing.get_origin(m) is Literal]
    if not literals or len(literals) + sum(map(_is_none, members)) != len(members):
        return tp, None
    values: list[object] = []
    for member in literals:
        values.extend(v for v in typing.get_args(member) if v not in values)
    if all(isinstance(v, str) for v in values):
        base: type = str
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        base = int
    else:
        raise _fail(
            where,
            f"{type_name(tp)}: Literal values must all be strings or all be integers",
            'Write e.g. Literal["fast", "slow"] or Literal[1, 2, 4].',
        )
    if len(values) < 2:
        raise _fail(
            where,
            f"{type_name(tp)} must offer at least 2 values",
            "Offer two or more values, or use a plain str/int input.",
        )
    nullable = len(literals) < len(members)
    choices = tuple(typing.cast("list[str | int]", values))
    return (typing.Optional[base] if nullable else base), choices  # noqa: UP045 (a runtime value)
