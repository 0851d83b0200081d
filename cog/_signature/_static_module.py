"""One parsed source file of a model project, and where its names come from.

``Module.resolve`` turns a name or dotted attribute into the qualified name it was
imported as ("typing.Optional", "cog.Path", "builtins.str"); ``lookup_class`` follows a
name into the project's own modules (``from .outputs import Output``) to the class
statement that defines it.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from cog.errors import SchemaError

Definition = Union[ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef]  # noqa: UP007 (3.8+)
_MAX_DEPTH = 20
# The names the annotation reader cares about, for modules users star-import.
_STAR_NAMES = {
    "cog": (
        "AsyncConcatenateIterator",
        "BaseModel",
        "BasePredictor",
        "BaseRunner",
        "ConcatenateIterator",
        "File",
        "Input",
        "Opaque",
        "Path",
        "Secret",
        "streaming",
    ),
    "typing": (
        "Annotated",
        "Any",
        "AsyncIterator",
        "Dict",
        "Iterator",
        "List",
        "Optional",
        "Union",
    ),
}


class StaticAnalysisUndecided(SchemaError):  # noqa: N818 (the name is the interface)
    """The source alone cannot tell: the model has to be imported to know."""


Undecided = StaticAnalysisUndecided


@dataclass(frozen=True)
class Site:
    """Where a message points: file, line, the entry point and the parameter."""

    file: str
    line: int
    where: str
    param: str | None = None

    @property
    def prefix(self) -> str:
        return f"{self.file}:{self.line}"

    def at(self, line: int, param: str | None = None) -> Site:
        return Site(self.file, line, self.where, param if param is not None else self.param)


@dataclass(frozen=True)
class _Import:
    module: str  # absolute dotted name, or a project-relative file for relative imports
    name: str | None  # None for `import x` (binds the module itself)
    level: int = 0


@dataclass
class Module:
    project_dir: Path
    path: Path
    tree: ast.Module
    imports: dict[str, _Import] = field(default_factory=dict)
    constants: dict[str, ast.expr] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)
    _cache: dict[Path, Module] = field(default_factory=dict, repr=False)

    @property
    def star_import(self) -> bool:
        return bool(self.star_modules)

    @property
    def display(self) -> str:
        try:
            return str(self.path.relative_to(self.project_dir))
        except ValueError:
            return str(self.path)

    def resolve(self, expr: ast.expr) -> str | None:
        """The qualified name ``expr`` refers to, or None when it is not a plain name."""
        parts = _dotted(expr)
        if parts is None:
            return None
        head, rest = parts[0], parts[1:]
        if head in self.definitions or head in self.constants:
            return ".".join(["<local>", *parts])
        imported = self.imports.get(head)
        if imported is None:
            if hasattr(builtins, head):
                return ".".join(["builtins", *parts])
            return self._from_star_import(parts)
        prefix = imported.module if imported.name is None else f"{imported.module}.{imported.name}"
        return _canonical(".".join([prefix, *rest]))

    def _from_star_import(self, parts: list[str]) -> str | None:
        """`from cog import *` / `from typing import *`: names whose origin is known."""
        for star in self.star_modules:
            known = _STAR_NAMES.get(_canonical(f"{star}.x").rpartition(".")[0], ())
            if parts[0] in known:
                return _canonical(".".join([star, *parts]))
        return None

    def lookup_class(self, expr: ast.expr) -> tuple[Module, ast.ClassDef] | None:
        found = self._lookup(expr, 0)
        if found is not None and isinstance(found[1], ast.ClassDef):
            return found[0], found[1]
        return None

    def lookup_definition(self, name: str) -> tuple[Module, Definition] | None:
        return self._lookup(ast.Name(name), 0)

    def defines(self, name: str) -> bool:
        return name in self.definitions or name in self.constants or name in self.imports

    def _lookup(  # noqa: PLR0911 (one return per way a name can be bound)
        self, expr: ast.expr, depth: int
    ) -> tuple[Module, Definition] | None:
        parts = _dotted(expr)
        if parts is None or depth > _MAX_DEPTH:
            return None
        head = parts[0]
        if len(parts) == 1 and head in self.definitions:
            return self, self.definitions[head]
        imported = self.imports.get(head)
        if imported is None:
            return None
        if imported.name is None:
            # `import pkg.mod as m` then `m.Name`: the module itself, then the name in it
            target = self._local_module(imported.module, imported.level)
            if target is None or len(parts) != 2:
                return None
            return target._lookup(ast.Name(parts[1]), depth + 1)
        if len(parts) == 2:
            # `from pkg import mod` then `mod.Name`
            sub = _join(imported.module, imported.name)
            target = self._local_module(sub, imported.level)
            if target is not None:
                return target._lookup(ast.Name(parts[1]), depth + 1)
            # `from .shared import output` where shared.py itself imported `output`
            owner = self._local_module(imported.module, imported.level)
            if owner is None:
                return None
            return owner._lookup(ast.Attribute(ast.Name(imported.name), parts[1]), depth + 1)
        if len(parts) != 1:
            return None
        target = self._local_module(imported.module, imported.level)
        if target is None:
            return None
        return target._lookup(ast.Name(imported.name), depth + 1)

    def lookup_constant(self, name: str, depth: int = 0) -> tuple[Module, ast.expr] | None:
        """A module-level ``NAME = value`` here or in the local module NAME came from."""
        if name in self.constants:
            return self, self.constants[name]
        imported = self.imports.get(name)
        if imported is None or imported.name is None or depth > _MAX_DEPTH:
            return None
        target = self._local_module(imported.module, imported.level)
        return None if target is None else target.lookup_constant(imported.name, depth + 1)

    def _local_module(self, dotted: str, level: int) -> Module | None:
        base = self.path.parent if level else self.project_dir
        for _ in range(max(level - 1, 0)):
            base = base.parent
        if dotted:
            relative = Path(*dotted.split("."))
            candidates = [base / relative.with_suffix(".py"), base / relative / "__init__.py"]
        else:
            candidates = [base / "__init__.py"] if level else []
        for candidate in candidates:
            if candidate.is_file():
                resolved = candidate.resolve()
                if resolved not in self._cache:
                    self._cache[resolved] = _parse(self.project_dir, resolved, self._cache)
                return self._cache[resolved]
        return None


def load_module(project_dir: Path, relative: Path) -> Module:
    path = (project_dir / relative).resolve()
    if not path.is_file():
        raise SchemaError(
            f"{relative}: no such file in {project_dir}",
            "Check the FILE part of run:/predict:/train: in cog.yaml.",
        )
    return _parse(project_dir.resolve(), path, {})


def _parse(project_dir: Path, path: Path, cache: dict[Path, Module]) -> Module:
    display = path.relative_to(project_dir) if path.is_relative_to(project_dir) else path
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaError(f"{display}: cannot be read: {exc}", "Check the file.") from exc
    try:
        with warnings.catch_warnings():
            # `"\d"` in the user's code: Python warns when it compiles the model, not us.
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # its name before 3.12
            tree = ast.parse(source, filename=str(display))
    except SyntaxError as exc:
        raise SchemaError(
            f"{display}:{exc.lineno}: syntax error: {exc.msg}",
            "Fix the syntax error; the model cannot be loaded as it is.",
        ) from exc
    module = Module(project_dir, path, tree, _cache=cache)
    cache[path] = module
    for stmt in tree.body:
        _collect(module, stmt)
    return module


def _collect(module: Module, stmt: ast.stmt) -> None:
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        _collect_import(module, stmt)
    elif isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        module.definitions[stmt.name] = stmt
    elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            module.constants[target.id] = stmt.value
    elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        module.constants[stmt.target.id] = stmt.value
    elif isinstance(stmt, (ast.If, ast.Try)):
        # `try: from x import y / except ImportError:` and TYPE_CHECKING blocks still
        # bind names the annotations use.
        for inner in ast.iter_child_nodes(stmt):
            if isinstance(inner, ast.stmt):
                _collect(module, inner)
            elif isinstance(inner, ast.ExceptHandler):
                for handler_stmt in inner.body:
                    _collect(module, handler_stmt)


def _collect_import(module: Module, stmt: ast.Import | ast.ImportFrom) -> None:
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            if alias.asname:
                module.imports[alias.asname] = _Import(alias.name, None)
            else:
                head = alias.name.split(".")[0]
                module.imports[head] = _Import(head, None)
        return
    for alias in stmt.names:
        if alias.name == "*":
            module.star_modules.append(stmt.module or "")
            continue
        module.imports[alias.asname or alias.name] = _Import(
            stmt.module or "", alias.name, stmt.level
        )


def _dotted(expr: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    parts.append(expr.id)
    return parts[::-1]


def _canonical(name: str) -> str:
    """One spelling per thing: typing_extensions.X is typing.X, cog.types.Path is cog.Path."""
    module, _, attr = name.rpartition(".")
    if module == "typing_extensions":
        return f"typing.{attr}"
    if module == "cog" or module.startswith("cog."):
        return f"cog.{attr}"
    if module in ("pydantic.main", "pydantic.v1"):
        return f"pydantic.{attr}"
    return name


def _join(*parts: str) -> str:
    return ".".join(p for p in parts if p)
