"""Return annotations, read from the source, as the signature model's OutputSpec.

The same outputs introspection takes (``cog._sdk.outputmap``): values, BaseModels and
TypedDicts (objects with their fields and defaults), lists of those, iterators of those or
of lists of them, unions (``anyOf``) and Optional values (nullable).
"""

from __future__ import annotations

import ast
from dataclasses import replace

from cog._signature import _static_eval as _eval
from cog._signature import _static_resolve as _r
from cog._signature._static_module import Module, Site
from cog._signature._static_types import (
    CONCATENATE,
    DICT,
    ITERATORS,
    LIST,
    OTHER_ITERABLES,
    TYPED_DICTS,
    annotated,
    inherits,
    is_model,
    plain_class,
    primitive,
)
from cog._signature.model import FieldType, ModelSpec, OutputKind, OutputSpec, Primitive
from cog.errors import SchemaError

__all__ = ["output_spec", "returns_any"]

_REQUIRED = {f"{m}.Required" for m in ("typing", "typing_extensions")}
_NOT_REQUIRED = {f"{m}.NotRequired" for m in ("typing", "typing_extensions")}
_FIELD_CALLS = {"pydantic.Field", "dataclasses.field"}


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
    members = _r.flat_union(r, site)
    if members is not None:
        return OutputSpec(_union_output(members, r, site))
    if r.kind in ("generic", "name") and r.name in OTHER_ITERABLES:
        raise _r.unsupported(
            site,
            r.expr,
            f"{r.name.rpartition('.')[2]} is not a supported output type",
            "Annotate a streamed output as Iterator[T] or AsyncIterator[T] (from typing or "
            "collections.abc), or ConcatenateIterator[str].",
        )
    if r.kind == "generic" and r.name in ITERATORS:
        return OutputSpec(_iterator_element(r, site), OutputKind.ITERATOR)
    if r.kind == "generic" and r.name in CONCATENATE:
        element = _element(r.module, site, _r.one_arg(r, site), 0)
        if element != FieldType(primitive=Primitive.STRING):
            raise _r.unsupported(site, r.expr, "ConcatenateIterator must yield str")
        return OutputSpec(element, OutputKind.CONCATENATE_ITERATOR)
    if r.kind == "generic" and r.name in LIST:
        item = _r.one_arg(r, site)
        if _r.is_opaque(_r.resolve(r.module, site, item, 0)):
            # Each item is an opaque JSON value: its own shape is not looked at.
            return OutputSpec(FieldType(primitive=Primitive.ANY), OutputKind.LIST)
        element = _element(r.module, site, item, 0)
        if element.is_list:
            raise _r.unsupported(site, r.expr, "nested lists are not supported")
        return OutputSpec(element, OutputKind.LIST)
    if r.kind == "name" and r.name in LIST:
        return OutputSpec(FieldType(primitive=Primitive.ANY), OutputKind.LIST)
    if r.kind == "generic" and r.name in _r.ANNOTATED:
        field = annotated(r, site, lambda m, a, e: _element(m, a, e, 0))
        if field.nullable:
            raise _r.unsupported(
                site,
                r.expr,
                "Optional is not allowed inside Opaque as a top-level return type",
                "Return Optional[Annotated[T, Opaque]] instead.",
            )
        if field.is_list:
            return OutputSpec(replace(field, is_list=False), OutputKind.LIST)
        return OutputSpec(field)
    return OutputSpec(_element(module, site, expr, 0))


def _union_output(members: list[_r.Resolved], r: _r.Resolved, site: Site) -> FieldType:
    rest = _r.distinct([m for m in members if m.kind != "none"])
    if not rest:
        raise _r.unsupported(site, r.expr, "None alone is not an output type")
    variants = [_element(m.module, site, m.expr, 0) for m in rest]
    if len(variants) == 1:
        return replace(variants[0], nullable=True)
    return FieldType(union=tuple(variants), nullable=len(rest) < len(members))


def _iterator_element(r: _r.Resolved, site: Site) -> FieldType:
    """Iterator[T]'s T: one value per item (a list of values is one value), never Optional."""
    element = _r.first_arg(r, site)
    inner = _r.resolve(r.module, site, element, 0)
    if _r.is_opaque(inner):
        return FieldType(primitive=Primitive.ANY)  # its shape is not looked at
    inner = _r.strip_annotated(inner, site)  # Annotated[T, "doc"] is T
    if _r.union_members(inner) is not None:
        raise _r.unsupported(
            site,
            r.expr,
            "an iterator's element type must not be Optional or a union",
            "Yield one value (str, int, float, bool, Path, dict, a BaseModel or a list of "
            "those) per item.",
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
        if field is None and inherits(r.module, r.cls, TYPED_DICTS, 0):
            return FieldType(model=_typed_dict_spec(r.module, at, r.cls, depth + 1))
        if not is_model(r.module, r.cls, 0):
            return plain_class(r, at)
        if field is not None:
            raise _nested_model(at, field)
        if depth > _r.MAX_DEPTH:
            return FieldType(primitive=Primitive.ANY)
        return FieldType(model=_model_spec(r.module, at, r.cls, depth + 1))
    if r.kind == "generic" and r.name in LIST:
        element = _r.one_arg(r, at)
        if _r.is_opaque(_r.resolve(r.module, at, element, 0)):
            return FieldType(primitive=Primitive.ANY, is_list=True)  # its shape is not looked at
        inner = _element(r.module, at, element, depth, field=field)
        if inner.is_list:
            raise _r.unsupported(at, r.expr, "nested lists are not supported")
        return replace(inner, is_list=True)
    if r.kind == "name" and r.name in LIST:
        return FieldType(primitive=Primitive.ANY, is_list=True)
    if r.kind == "generic" and r.name in DICT:
        return FieldType(primitive=Primitive.ANY)
    if r.kind == "generic" and r.name in _r.ANNOTATED:
        return annotated(r, at, lambda m, a, e: _element(m, a, e, depth, field=field))
    if r.kind == "union" or (r.kind == "generic" and r.name in _r.OPTIONAL | _r.UNION):
        raise _r.unsupported(at, r.expr, "union types are not supported here")
    return FieldType(primitive=primitive(r, at))


def _model_spec(module: Module, at: Site, cls: ast.ClassDef, depth: int) -> ModelSpec:
    fields: dict[str, FieldType] = {}
    defaults: dict[str, object] = {}
    optional: list[str] = []
    for base in cls.bases:
        local = module.lookup_class(base)
        if local is not None and is_model(local[0], local[1], 0):
            inherited = _model_spec(local[0], at, local[1], depth)
            fields.update(inherited.fields)
            defaults.update(inherited.defaults)
            optional.extend(n for n in inherited.optional if n not in optional)
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        if module.resolve(_r.strip_subscript(stmt.annotation)) == "typing.ClassVar":
            continue
        name = stmt.target.id
        field_at = Site(module.display, stmt.lineno, f"{cls.name}.{name}", at.param)
        fields[name] = _model_field(module, field_at, stmt.annotation, depth)
        defaults.pop(name, None)
        if name in optional:
            optional.remove(name)
        if stmt.value is not None:
            _field_default(module, field_at, name, stmt.value, defaults=defaults, optional=optional)
    return ModelSpec(cls.name, tuple(fields.items()), tuple(defaults.items()), tuple(optional))


def _field_default(
    module: Module,
    at: Site,
    name: str,
    value: ast.expr,
    *,
    defaults: dict[str, object],
    optional: list[str],
) -> None:
    """A model field's default: a literal, or pydantic's Field() / dataclasses' field()
    with a literal default (a default_factory makes the field optional, ``...`` required)."""
    call = value if isinstance(value, ast.Call) else None
    if call is None or module.resolve(call.func) not in _FIELD_CALLS:
        defaults[name] = _eval.literal(module, at, value)
        return
    keywords = {k.arg: k.value for k in call.keywords if k.arg is not None}
    if "default_factory" in keywords:
        optional.append(name)
        return
    given = keywords.get("default", call.args[0] if call.args else None)
    if given is None or (isinstance(given, ast.Constant) and given.value is Ellipsis):
        return  # no default: required
    defaults[name] = _eval.literal(module, at, given)


def _typed_dict_spec(module: Module, at: Site, cls: ast.ClassDef, depth: int) -> ModelSpec:
    fields: dict[str, FieldType] = {}
    optional: list[str] = []
    for base in cls.bases:
        local = module.lookup_class(base)
        if local is not None and inherits(local[0], local[1], TYPED_DICTS, 0):
            inherited = _typed_dict_spec(local[0], at, local[1], depth)
            fields.update(inherited.fields)
            optional.extend(inherited.optional)
    total = next((k.value for k in cls.keywords if k.arg == "total"), None)
    required = not (isinstance(total, ast.Constant) and total.value is False)
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        name, annotation, is_required = stmt.target.id, stmt.annotation, required
        marker = _r.resolve(module, at, annotation, 0)
        if marker.kind == "generic" and marker.name in _REQUIRED | _NOT_REQUIRED and marker.args:
            annotation, is_required = marker.args[0], marker.name in _REQUIRED
        field_at = Site(module.display, stmt.lineno, f"{cls.name}.{name}", at.param)
        fields[name] = _model_field(module, field_at, annotation, depth)
        if not is_required and name not in optional:
            optional.append(name)
    return ModelSpec(cls.name, tuple(fields.items()), (), tuple(optional))


def _model_field(module: Module, at: Site, expr: ast.expr, depth: int) -> FieldType:
    r = _r.resolve(module, at, expr, 0)
    bare = _r.strip_annotated(r, at)
    members = _r.flat_union(bare, at)
    if any(m.kind == "class" and m.cls and is_model(m.module, m.cls, 0) for m in members or [bare]):
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
