"""Type annotations, read from the source, as the signature model's FieldType/OutputSpec."""

from __future__ import annotations

import ast
import typing
from dataclasses import replace

from cog._signature import _static_resolve as _r
from cog._signature._static_module import Module, Site
from cog._signature.model import FieldType, ModelSpec, OutputKind, OutputSpec, Primitive
from cog.errors import SchemaError

ITERATOR_KINDS = (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR)

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
_LIST = {"builtins.list", "typing.List"}
# Only dict: the runtime rejects Mapping ("only list and dict are supported collections").
_DICT = {"builtins.dict", "typing.Dict"}
_ITERATORS = {
    f"{module}.{name}"
    for module in ("typing", "collections.abc")
    for name in ("Iterator", "AsyncIterator")
}
# Spellings the runtime does not take as a streamed output, rejected with the fix.
_OTHER_ITERABLES = {
    f"{module}.{name}"
    for module in ("typing", "collections.abc")
    for name in ("Generator", "AsyncGenerator", "Iterable", "AsyncIterable")
}
_CONCATENATE = {"cog.ConcatenateIterator", "cog.AsyncConcatenateIterator"}
_BASE_MODELS = {"cog.BaseModel", "pydantic.BaseModel"}
_TYPED_DICTS = {"typing.TypedDict", "typing_extensions.TypedDict"}
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
        return _annotated(r, at, input_type)
    if r.kind == "generic" and r.name in _r.OPTIONAL | _r.UNION:
        return _union_input(r, at)
    if r.kind == "generic" and r.name in _LIST:
        element = _r.one_arg(r, at)
        if _r.is_opaque(_r.resolve(r.module, at, element, 0)):
            return FieldType(primitive=Primitive.ANY, is_list=True)  # its shape is not looked at
        inner = input_type(r.module, at, element)
        if inner.is_list or inner.nullable or inner.union:
            raise _r.unsupported(at, r.expr, "nested types inside list[...] are not supported")
        return replace(inner, is_list=True)
    if r.kind == "generic" and r.name in _DICT:
        return FieldType(primitive=Primitive.ANY)
    if r.kind == "class":
        assert r.cls is not None
        if _is_model(r.module, r.cls, 0):
            raise _r.unsupported(at, r.expr, "a BaseModel cannot be an input")
        return _plain_class(r, at)
    if r.kind == "name" and r.name in _LIST:
        return FieldType(primitive=Primitive.ANY, is_list=True)
    return FieldType(primitive=_primitive(r, at))


def output_spec(module: Module, site: Site, expr: ast.expr | None) -> OutputSpec:
    if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
        raise SchemaError(
            f"{site.prefix}: {site.where} must have a return type annotation",
            "Annotate what it returns, for example `-> str` or `-> Path`.",
        )
    r = _r.resolve(module, site, expr, 0)
    if r.kind == "generic" and r.name in _r.ANNOTATED and r.args and not _r.is_opaque(r):
        return output_spec(r.module, site, r.args[0])  # documentation only: look through it
    return _output_of(module, site, expr, r)


def returns_any(module: Module, site: Site, expr: ast.expr | None) -> bool:
    """``-> Any``, which works but earns the same warning introspection gives."""
    if expr is None:
        return False
    r = _r.resolve(module, site, expr, 0)
    return r.kind == "name" and r.name == "typing.Any"


def _output_of(  # noqa: PLR0911 (one return per annotation shape)
    module: Module, site: Site, expr: ast.expr, r: _r.Resolved
) -> OutputSpec:
    if r.kind == "union" or (r.kind == "generic" and r.name in _r.OPTIONAL | _r.UNION):
        raise _r.unsupported(
            site,
            r.expr,
            "union and Optional outputs are not supported",
            "Return one type; for optional values use a BaseModel with Optional fields.",
        )
    if r.kind in ("generic", "name") and r.name in _OTHER_ITERABLES:
        raise _r.unsupported(
            site,
            r.expr,
            f"{r.name.rpartition('.')[2]} is not a supported output type",
            "Annotate a streamed output as Iterator[T] or AsyncIterator[T] (from typing or "
            "collections.abc), or ConcatenateIterator[str].",
        )
    if r.kind == "generic" and r.name in _ITERATORS:
        return OutputSpec(_iterator_element(r, site), OutputKind.ITERATOR)
    if r.kind == "generic" and r.name in _CONCATENATE:
        element = _element(r.module, site, _r.one_arg(r, site), 0)
        if element != FieldType(primitive=Primitive.STRING):
            raise _r.unsupported(site, r.expr, "ConcatenateIterator must yield str")
        return OutputSpec(element, OutputKind.CONCATENATE_ITERATOR)
    if r.kind == "generic" and r.name in _LIST:
        item = _r.one_arg(r, site)
        if _r.is_opaque(_r.resolve(r.module, site, item, 0)):
            # Each item is an opaque JSON value: its own shape is not looked at.
            return OutputSpec(FieldType(primitive=Primitive.ANY), OutputKind.LIST)
        return OutputSpec(_element(r.module, site, item, 0), OutputKind.LIST)
    if r.kind == "name" and r.name in _LIST:
        return OutputSpec(FieldType(primitive=Primitive.ANY), OutputKind.LIST)
    if r.kind == "generic" and r.name in _r.ANNOTATED:
        field = _annotated(r, site, lambda m, a, e: _element(m, a, e, 0))
        if field.nullable:
            raise _r.unsupported(
                site,
                r.expr,
                "Optional is not allowed as a top-level return type, also inside Opaque",
                "Return one type; for optional values use a BaseModel with Optional fields.",
            )
        if field.is_list:
            return OutputSpec(replace(field, is_list=False), OutputKind.LIST)
        return OutputSpec(field)
    return OutputSpec(_element(module, site, expr, 0))


def _iterator_element(r: _r.Resolved, site: Site) -> FieldType:
    """Iterator[T]'s T: one value per item, so neither a list nor Optional (as the runtime)."""
    element = _r.first_arg(r, site)
    inner = _r.resolve(r.module, site, element, 0)
    if _r.is_opaque(inner):
        return FieldType(primitive=Primitive.ANY)  # its shape is not looked at
    inner = _r.strip_annotated(inner, site)  # Annotated[T, "doc"] is T
    if inner.name in _LIST or _r.union_members(inner) is not None:
        raise _r.unsupported(
            site,
            r.expr,
            "an iterator's element type must not be a list or Optional",
            "Yield one plain value (str, int, float, bool, Path, dict or a BaseModel) per "
            "item; wrap a list as Annotated[list[...], Opaque] if it must be one item.",
        )
    return _element(r.module, site, element, 0)


def _element(  # noqa: PLR0911 (one return per annotation shape)
    module: Module, at: Site, expr: ast.expr, depth: int, *, field: ast.expr | None = None
) -> FieldType:
    """An output value, an element of an output list/iterator, or (``field``: its whole
    annotation) a BaseModel field, which the runtime does not allow to hold a BaseModel."""
    r = _r.resolve(module, at, expr, 0)
    if r.kind == "class":
        assert r.cls is not None
        if not _is_model(r.module, r.cls, 0):
            return _plain_class(r, at)
        if field is not None:
            raise _nested_model(at, field)
        if depth > _r.MAX_DEPTH:
            return FieldType(primitive=Primitive.ANY)
        return FieldType(model=_model_spec(r.module, at, r.cls, depth + 1))
    if r.kind == "generic" and r.name in _LIST:
        element = _r.one_arg(r, at)
        if _r.is_opaque(_r.resolve(r.module, at, element, 0)):
            return FieldType(primitive=Primitive.ANY, is_list=True)  # its shape is not looked at
        inner = _element(r.module, at, element, depth, field=field)
        if inner.is_list:
            raise _r.unsupported(at, r.expr, "nested lists are not supported")
        return replace(inner, is_list=True)
    if r.kind == "name" and r.name in _LIST:
        return FieldType(primitive=Primitive.ANY, is_list=True)
    if r.kind == "generic" and r.name in _DICT:
        return FieldType(primitive=Primitive.ANY)
    if r.kind == "generic" and r.name in _r.ANNOTATED:
        return _annotated(r, at, lambda m, a, e: _element(m, a, e, depth, field=field))
    if r.kind == "union" or (r.kind == "generic" and r.name in _r.OPTIONAL | _r.UNION):
        raise _r.unsupported(at, r.expr, "union types are not supported here")
    return FieldType(primitive=_primitive(r, at))


def _model_spec(module: Module, at: Site, cls: ast.ClassDef, depth: int) -> ModelSpec:
    fields: dict[str, FieldType] = {}
    for base in cls.bases:
        local = module.lookup_class(base)
        if local is not None and _is_model(local[0], local[1], 0):
            fields.update(_model_spec(local[0], at, local[1], depth).fields)
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if module.resolve(_r.strip_subscript(stmt.annotation)) == "typing.ClassVar":
            continue
        field_at = Site(module.display, stmt.lineno, f"{cls.name}.{stmt.target.id}", at.param)
        fields[stmt.target.id] = _model_field(module, field_at, stmt.annotation, depth)
    return ModelSpec(cls.name, tuple(fields.items()))


def _model_field(module: Module, at: Site, expr: ast.expr, depth: int) -> FieldType:
    r = _r.resolve(module, at, expr, 0)
    bare = _r.strip_annotated(r, at)
    members = _r.flat_union(bare, at)
    if any(
        m.kind == "class" and m.cls and _is_model(m.module, m.cls, 0) for m in members or [bare]
    ):
        # Even Annotated[Model, Opaque]: the runtime looks through Annotated for this check.
        raise _nested_model(at, r.expr)
    members = _r.flat_union(r, at)
    if members is not None:
        rest = _r.distinct([m for m in members if m.kind != "none"])
        if len(rest) == 1 and len(rest) < len(members):
            inner = _element(rest[0].module, at, rest[0].expr, depth, field=expr)
            return replace(inner, nullable=True)
        raise _r.unsupported(at, r.expr, "BaseModel fields may be Optional, not other unions")
    return _element(module, at, expr, depth, field=expr)


def _nested_model(at: Site, expr: ast.expr) -> SchemaError:
    # ``at.where`` is "Model.field" here (see _model_spec).
    return SchemaError(
        f"{at.prefix}: output field {at.where}, `{ast.unparse(expr)}`: a BaseModel field "
        "cannot hold another BaseModel (nested BaseModel fields are not supported)",
        "Flatten the inner model's fields into the output model, or type the field as dict.",
    )


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


def _annotated(r: _r.Resolved, at: Site, inner: _TypeReader) -> FieldType:
    if not any(r.module.resolve(a) == "cog.Opaque" for a in r.args[1:]):
        return inner(r.module, at, r.args[0])
    shape = _r.resolve(r.module, at, r.args[0], 0)
    members = _r.union_members(shape)
    nullable = False
    if members is not None:
        rest = [m for m in members if _r.resolve(shape.module, at, m, 0).kind != "none"]
        nullable = len(rest) < len(members)
        shape = _r.resolve(shape.module, at, rest[0], 0) if len(rest) == 1 else shape
    is_list = shape.name in _LIST
    return FieldType(primitive=Primitive.ANY, is_list=is_list, nullable=nullable)


def _primitive(r: _r.Resolved, at: Site) -> Primitive:
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


def _is_model(module: Module, cls: ast.ClassDef, depth: int) -> bool:
    return _inherits(module, cls, _BASE_MODELS, depth)


def _inherits(module: Module, cls: ast.ClassDef, bases: set[str], depth: int) -> bool:
    for base in cls.bases:
        if module.resolve(base) in bases:
            return True
        local = module.lookup_class(base)
        if (
            local is not None
            and depth < _r.MAX_DEPTH
            and _inherits(local[0], local[1], bases, depth + 1)
        ):
            return True
    return False


def _plain_class(r: _r.Resolved, at: Site) -> FieldType:
    """A project class that is not a BaseModel: a TypedDict is an opaque object (as the
    runtime reads it), an Enum is refused (as the runtime does); anything else needs
    the import to tell."""
    assert r.cls is not None
    if _inherits(r.module, r.cls, _TYPED_DICTS, 0):
        return FieldType(primitive=Primitive.ANY)
    if _inherits(r.module, r.cls, _ENUMS, 0):
        raise _r.unsupported(
            at,
            r.expr,
            f"enum type {r.cls.name} is not supported",
            "Use str or int with Input(choices=[...]) instead.",
        )
    raise _r.undecided(r, at)
