"""Annotations, read from the source, followed through aliases and imports to what they
name: the layer under ``_static_types`` that knows spellings, not Cog's type rules."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from cog._signature._static_module import Module, Site, Undecided
from cog.errors import SchemaError

OPTIONAL = {"typing.Optional"}
UNION = {"typing.Union"}
ANNOTATED = {"typing.Annotated"}
MAX_DEPTH = 20


@dataclass(frozen=True)
class Resolved:
    """An annotation after following aliases: what it is, and where its arguments live."""

    kind: str  # "name", "generic", "union", "none" or "class"
    module: Module
    expr: ast.expr
    name: str | None = None
    args: tuple[ast.expr, ...] = ()
    cls: ast.ClassDef | None = None


def strip_annotated(r: Resolved, at: Site) -> Resolved:
    depth = 0
    while r.kind == "generic" and r.name in ANNOTATED and r.args and depth < MAX_DEPTH:
        r, depth = resolve(r.module, at, r.args[0], 0), depth + 1
    return r


def is_opaque(r: Resolved) -> bool:
    return (
        r.kind == "generic"
        and r.name in ANNOTATED
        and any(r.module.resolve(a) == "cog.Opaque" for a in r.args[1:])
    )


def flat_union(r: Resolved, at: Site, depth: int = 0) -> list[Resolved] | None:
    """A union's members with nested unions and Optionals flattened, as Python does."""
    members = union_members(r)
    if members is None:
        return None
    flat: list[Resolved] = []
    for member in members:
        resolved = resolve(r.module, at, member, 0)
        nested = flat_union(resolved, at, depth + 1) if depth < MAX_DEPTH else None
        flat.extend(nested if nested is not None else [resolved])
    return flat


def distinct(members: list[Resolved]) -> list[Resolved]:
    """Repeated members dropped (Union[str, str] is str), keeping the first of each."""
    seen: set[tuple[object, ...]] = set()
    kept = []
    for member in members:
        key: tuple[object, ...] = (
            member.kind,
            member.name if member.name is not None else ast.unparse(member.expr),
            tuple(ast.unparse(a) for a in member.args),
            id(member.cls),
        )
        if key not in seen:
            seen.add(key)
            kept.append(member)
    return kept


def union_members(r: Resolved) -> list[ast.expr] | None:
    if r.kind == "union":
        return list(r.args)
    if r.kind == "generic" and r.name in UNION:
        return list(r.args)
    if r.kind == "generic" and r.name in OPTIONAL:
        return [*r.args, ast.Constant(None)]
    return None


def resolve(  # noqa: PLR0911 (one return per annotation shape)
    module: Module, at: Site, expr: ast.expr, depth: int
) -> Resolved:
    if depth > MAX_DEPTH:
        raise unsupported(at, expr, "the type alias refers to itself")
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        try:
            parsed = ast.parse(expr.value.strip(), mode="eval").body
        except SyntaxError as exc:
            raise unsupported(at, expr, "the string annotation is not valid Python") from exc
        return resolve(module, at, parsed, depth + 1)
    if isinstance(expr, ast.Constant) and expr.value is None:
        return Resolved("none", module, expr)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        members = [*_flatten_or(expr.left), *_flatten_or(expr.right)]
        return Resolved("union", module, expr, args=tuple(members))
    if isinstance(expr, ast.Subscript):
        head = resolve(module, at, expr.value, depth + 1)
        args = expr.slice.elts if isinstance(expr.slice, ast.Tuple) else [expr.slice]
        return Resolved("generic", head.module, expr, name=head.name, args=tuple(args))
    local = module.lookup_class(expr)
    if local is not None:
        return Resolved("class", local[0], expr, name=local[1].name, cls=local[1])
    if isinstance(expr, ast.Name):
        alias = module.lookup_constant(expr.id)
        if alias is not None:
            return resolve(alias[0], at, alias[1], depth + 1)
    name = module.resolve(expr)
    if name is None and isinstance(expr, ast.Name) and not module.star_import:
        raise SchemaError(
            f"{at.prefix}: '{expr.id}' is not defined in {module.display}",
            f"Import {expr.id} (for example `from cog import {expr.id}`) or define it.",
        )
    return Resolved("name", module, expr, name=name)


def _flatten_or(expr: ast.expr) -> list[ast.expr]:
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.BitOr):
        return [*_flatten_or(expr.left), *_flatten_or(expr.right)]
    return [expr]


def strip_subscript(expr: ast.expr) -> ast.expr:
    return expr.value if isinstance(expr, ast.Subscript) else expr


def one_arg(r: Resolved, at: Site) -> ast.expr:
    if len(r.args) != 1:
        raise unsupported(at, r.expr, f"{r.name} takes exactly one type argument")
    return r.args[0]


def first_arg(r: Resolved, at: Site) -> ast.expr:
    if not r.args:
        raise unsupported(at, r.expr, f"{r.name} needs a type argument")
    return r.args[0]


def unsupported(at: Site, expr: ast.expr, why: str, hint: str | None = None) -> SchemaError:
    what = f"the type of input '{at.param}'" if at.param else f"the return type of {at.where}"
    return SchemaError(
        f"{at.prefix}: {what}, `{ast.unparse(expr)}`: {why}",
        hint
        or "Use str, int, float, bool, Path, File, Secret, dict, list[...] or Optional[...] "
        "(and a BaseModel or an iterator for outputs).",
    )


def undecided(r: Resolved, at: Site) -> Undecided:
    where = f"input '{at.param}'" if at.param else f"the output of {at.where}"
    return Undecided(
        f"{at.prefix}: the type `{ast.unparse(r.expr)}` of {where} comes from "
        f"'{r.name or ast.unparse(r.expr)}', which cannot be read without importing it",
        "Cog will import the model to read it; use a cog type or Annotated[..., Opaque] to "
        "avoid that.",
    )
