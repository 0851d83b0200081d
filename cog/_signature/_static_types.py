"""Input type annotations, read from the source, as the signature model's FieldType (and
the spellings and class checks ``_static_outputs`` shares for return annotations)."""

from __future__ import annotations

import ast
import typing
from dataclasses import replace

from cog._signature import _static_resolve as _r
from cog._signature._static_module import Module, Site
from cog._signature.model import FieldType, OutputKind, Primitive

ITERATOR_KINDS = (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR)
_LITERALS = {"typing.Literal", "typing_extensions.Literal"}
_LITERAL_MIXED = "Literal values must all be strings or all be integers"
_LITERAL_HINT = 'Write e.g. Literal["fast", "slow"] or Literal[1, 2, 4].'

_PRIMITIVES = {
    "builtins.str": Primitive.STRING,
    "builtins.int": Primitive.INTEGER,
    "builtins.float": Primitive.FLOAT,
    "builtins.bool": Primitive.BOOL,
    "cog.Path": Primitive.PATH,
    "pathlib.Path": Primitive.PATH,
    "pathlib.PosixPath": Primitive.PATH,
    "os.PathLike": Primitive.PATH,
    "cog.File": Primitive.FILE,
    "cog.Secret": Primitive.SECRET,
    "typing.Any": Primitive.ANY,
    "builtins.dict": Primitive.ANY,
    "typing.Dict": Primitive.ANY,
}
LIST = {"builtins.list", "typing.List"}
# Only dict: the runtime rejects Mapping ("only list and dict are supported collections").
DICT = {"builtins.dict", "typing.Dict"}
ITERATORS = {
    f"{module}.{name}"
    for module in ("typing", "collections.abc")
    for name in ("Iterator", "AsyncIterator")
}
# Spellings the runtime does not take as a streamed output, rejected with the fix.
OTHER_ITERABLES = {
    f"{module}.{name}"
    for module in ("typing", "collections.abc")
    for name in ("Generator", "AsyncGenerator", "Iterable", "AsyncIterable")
}
CONCATENATE = {"cog.ConcatenateIterator", "cog.AsyncConcatenateIterator"}
_BASE_MODELS = {"cog.BaseModel", "pydantic.BaseModel"}
TYPED_DICTS = {"typing.TypedDict", "typing_extensions.TypedDict"}
_ENUMS = {f"enum.{name}" for name in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag")}
_UNION_MEMBERS = (
    Primitive.STRING,
    Primitive.INTEGER,
    Primitive.FLOAT,
    Primitive.BOOL,
    Primitive.ANY,
)
_TypeReader = typing.Callable[[Module, Site, ast.expr], FieldType]


def input_type(  # noqa: PLR0911 (one return per annotation shape)
    module: Module, at: Site, expr: ast.expr
) -> FieldType:
    r = _r.resolve(module, at, expr, 0)
    if r.kind == "union":
        return _union_input(r, at)
    if r.kind == "generic" and r.name in _r.ANNOTATED:
        return annotated(r, at, input_type)
    if r.kind == "generic" and r.name in _r.OPTIONAL | _r.UNION:
        return _union_input(r, at)
    if r.kind == "generic" and r.name in LIST:
        element = _r.one_arg(r, at)
        if _r.is_opaque(_r.resolve(r.module, at, element, 0)):
            return FieldType(primitive=Primitive.ANY, is_list=True)  # its shape is not looked at
        inner = input_type(r.module, at, element)
        if inner.is_list or inner.nullable or inner.union:
            raise _r.unsupported(at, r.expr, "nested types inside list[...] are not supported")
        return replace(inner, is_list=True)
    if r.kind == "generic" and r.name in DICT:
        return FieldType(primitive=Primitive.ANY)
    if r.kind == "class":
        assert r.cls is not None
        if is_model(r.module, r.cls, 0):
            raise _r.unsupported(at, r.expr, "a BaseModel cannot be an input")
        return plain_class(r, at)
    if r.kind == "name" and r.name in LIST:
        return FieldType(primitive=Primitive.ANY, is_list=True)
    return FieldType(primitive=primitive(r, at))


def _union_input(r: _r.Resolved, at: Site) -> FieldType:
    members = _r.flat_union(r, at) or []
    rest = _r.distinct([m for m in members if m.kind != "none"])
    nullable = any(m.kind == "none" for m in members)
    if not rest:
        raise _r.unsupported(at, r.expr, "None alone is not an input type")
    for member in rest:
        alone_and_opaque = len(rest) == 1 and _r.is_opaque(member)
        if not alone_and_opaque and _r.flat_union(_r.strip_annotated(member, at), at):
            # The runtime does not look through Annotated for these: only an Opaque
            # Optional member keeps its own union.
            raise _r.unsupported(
                at, r.expr, "a union inside Annotated[...] inside a union is not supported"
            )
    if len(rest) == 1:
        inner = input_type(rest[0].module, at, rest[0].expr)
        return replace(inner, nullable=inner.nullable or nullable)
    variants = tuple(input_type(m.module, at, m.expr) for m in rest)
    for variant in variants:
        # A nullable variant can only be an Opaque one here: the runtime takes it as is.
        if variant.union or variant.primitive not in _UNION_MEMBERS:
            raise _r.unsupported(
                at,
                r.expr,
                "unions may only combine str, int, float, bool, dict and list[...]",
                "Use a single type for Path, File, Secret or BaseModel inputs.",
            )
    return FieldType(union=variants, nullable=nullable)


def annotated(r: _r.Resolved, at: Site, inner: _TypeReader) -> FieldType:
    if not any(r.module.resolve(a) == "cog.Opaque" for a in r.args[1:]):
        return inner(r.module, at, r.args[0])
    shape = _r.resolve(r.module, at, r.args[0], 0)
    members = _r.union_members(shape)
    nullable = False
    if members is not None:
        rest = [m for m in members if _r.resolve(shape.module, at, m, 0).kind != "none"]
        nullable = len(rest) < len(members)
        shape = _r.resolve(shape.module, at, rest[0], 0) if len(rest) == 1 else shape
    is_list = shape.name in LIST
    return FieldType(primitive=Primitive.ANY, is_list=is_list, nullable=nullable)


def primitive(r: _r.Resolved, at: Site) -> Primitive:
    if r.kind == "name" and r.name in _PRIMITIVES:
        return _PRIMITIVES[r.name]
    if r.kind == "none":
        raise _r.unsupported(at, r.expr, "None is not a value type")
    if r.name is None and (
        r.module.star_import or not isinstance(r.expr, (ast.Name, ast.Attribute))
    ):
        raise _r.undecided(r, at)  # computed at import time: `Text = make_type()`
    if r.name is None or r.name.startswith(("builtins.", "typing.", "collections.", "cog.")):
        raise _r.unsupported(at, r.expr, "this type is not supported")
    raise _r.undecided(r, at)


def is_model(module: Module, cls: ast.ClassDef, depth: int) -> bool:
    return inherits(module, cls, _BASE_MODELS, depth)


def inherits(module: Module, cls: ast.ClassDef, bases: set[str], depth: int) -> bool:
    for base in cls.bases:
        if module.resolve(base) in bases:
            return True
        local = module.lookup_class(base)
        if (
            local is not None
            and depth < _r.MAX_DEPTH
            and inherits(local[0], local[1], bases, depth + 1)
        ):
            return True
    return False


def plain_class(r: _r.Resolved, at: Site) -> FieldType:
    """A project class that is not a BaseModel: a TypedDict is an opaque object (as the
    runtime reads it), an Enum is refused (as the runtime does); anything else needs
    the import to tell."""
    assert r.cls is not None
    if inherits(r.module, r.cls, TYPED_DICTS, 0):
        return FieldType(primitive=Primitive.ANY)
    if inherits(r.module, r.cls, _ENUMS, 0):
        raise _r.unsupported(
            at,
            r.expr,
            f"enum type {r.cls.name} is not supported",
            "Use str or int with Input(choices=[...]) instead.",
        )
    raise _r.undecided(r, at)


def literal_input(
    module: Module, at: Site, expr: ast.expr
) -> tuple[FieldType, tuple[str | int, ...]] | None:
    """``Literal["a", "b"]`` (or an Optional one): a str/int input with those choices."""
    r = _r.resolve(module, at, expr, 0)
    members = _r.flat_union(r, at)
    candidates = members if members is not None else [r]
    literals = [m for m in candidates if m.kind == "generic" and m.name in _LITERALS]
    nones = sum(m.kind == "none" for m in candidates)
    if not literals or len(literals) + nones != len(candidates):
        return None
    values: list[str | int] = []
    for member in literals:
        for arg in member.args:
            value = _literal_value(arg)
            if value is None:
                raise _r.unsupported(at, r.expr, _LITERAL_MIXED, _LITERAL_HINT)
            if value not in values:
                values.append(value)
    kinds = {type(v) for v in values}
    if len(kinds) != 1:
        raise _r.unsupported(at, r.expr, _LITERAL_MIXED, _LITERAL_HINT)
    if len(values) < 2:
        raise _r.unsupported(
            at, r.expr, "a Literal input must offer at least 2 values", _LITERAL_HINT
        )
    kind = Primitive.STRING if kinds == {str} else Primitive.INTEGER
    return FieldType(primitive=kind, nullable=nones > 0), tuple(values)


def _literal_value(arg: ast.expr) -> str | int | None:
    negative = isinstance(arg, ast.UnaryOp) and isinstance(arg.op, ast.USub)
    node = arg.operand if isinstance(arg, ast.UnaryOp) and negative else arg
    if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
        return None
    if isinstance(node.value, int):
        return -node.value if negative else node.value
    return node.value if isinstance(node.value, str) and not negative else None
