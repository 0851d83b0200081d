"""What `cog doctor --fix` rewrites in a model's code, as the reference's doctor does.

Each rewrite is planned on the file's ``ast`` and applied to its lines, so comments and
formatting elsewhere stay as they were.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cog.errors import CogError

PREDICT_REF = re.compile(r"""(?m)^predict:[ \t]*["']predict\.py:Predictor["'][ \t]*$""")
RUN_REF = re.compile(r"""(?m)^run:[ \t]*["'][^"']+["'][ \t]*$""")
BASE_PREDICTOR = re.compile(r"\bBasePredictor\b")
PREDICTOR_CLASS = re.compile(r"\bclass\s+Predictor(\s*[(:])")
PREDICT_METHOD = re.compile(r"\bdef\s+predict\s*\(")


def rewrite(path: Path, transform: Callable[[str], str]) -> Callable[[], str]:
    """A fix that rewrites ``path`` with ``transform`` (its mode kept)."""

    def fix() -> str:
        try:
            text = path.read_text(encoding="utf-8")
            path.write_text(transform(text), encoding="utf-8")
        except OSError as exc:
            raise CogError(f"cannot rewrite {path.name}: {exc.strerror}") from None
        return f"rewrote {path.name}"

    return fix


@dataclass(frozen=True)
class _Edit:
    start: int  # 0-based line index
    end: int  # exclusive; start == end inserts
    lines: tuple[str, ...] = ()


def _apply(lines: list[str], edits: Iterable[_Edit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        end = edit.end
        # A deleted statement takes one blank line with it when it stood between blanks.
        blank_before = edit.start == 0 or not lines[edit.start - 1].strip()
        if not edit.lines and edit.start < end < len(lines) and blank_before:
            end += not lines[end].strip()
        lines[edit.start : end] = edit.lines
    return "".join(lines)


def _span(node: ast.stmt) -> tuple[int, int]:
    return node.lineno - 1, node.end_lineno or node.lineno


def _names(nodes: Iterable[ast.AST]) -> set[str]:
    return {n.id for node in nodes for n in ast.walk(node) if isinstance(n, ast.Name)}


def _alias(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def _from_import(module: str, aliases: Iterable[str]) -> tuple[str, ...]:
    kept = list(aliases)
    return (f"from {module} import {', '.join(kept)}\n",) if kept else ()


def imported_names(tree: ast.Module) -> dict[str, str]:
    """Each name a top-level ``from M import N [as A]`` binds, and its module."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = node.module
    return names


def arbitrary_types_config(stmt: ast.stmt) -> bool:
    """``model_config = ConfigDict(arbitrary_types_allowed=True)`` (other keywords too)."""
    if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)):
        return False
    if not any(isinstance(t, ast.Name) and t.id == "model_config" for t in stmt.targets):
        return False
    return any(
        k.arg == "arbitrary_types_allowed"
        and isinstance(k.value, ast.Constant)
        and k.value.value is True
        for k in stmt.value.keywords
    )


def _on_pydantic(base: ast.expr, names: Mapping[str, str]) -> bool:
    if isinstance(base, ast.Name):
        return base.id == "BaseModel" and names.get(base.id) == "pydantic"
    return (
        isinstance(base, ast.Attribute)
        and base.attr == "BaseModel"
        and isinstance(base.value, ast.Name)
        and base.value.id == "pydantic"
    )


def pydantic_classes(tree: ast.Module) -> list[ast.ClassDef]:
    """Top-level classes on pydantic.BaseModel with arbitrary_types_allowed=True."""
    names = imported_names(tree)
    return [
        node
        for node in tree.body
        if isinstance(node, ast.ClassDef)
        and any(_on_pydantic(b, names) for b in node.bases)
        and any(arbitrary_types_config(stmt) for stmt in node.body)
    ]


def use_cog_base_model(text: str) -> str:
    """pydantic.BaseModel + arbitrary_types_allowed=True becomes cog.BaseModel."""
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    edits: list[_Edit] = []
    removed: list[ast.stmt] = []
    for node in pydantic_classes(tree):
        header_end = node.body[0].lineno - 1
        for index in range(node.lineno - 1, header_end):
            lines[index] = lines[index].replace("pydantic.BaseModel", "BaseModel")
        edits.extend(_config_edits(node, lines, removed))
    kept = [n for n in ast.walk(tree) if not any(n is r for r in removed)]
    keep_config_dict = any(
        isinstance(n, ast.Name) and n.id == "ConfigDict" and not _inside(n, removed) for n in kept
    )
    pydantic_used = any(
        isinstance(n, ast.Attribute)
        and isinstance(n.value, ast.Name)
        and n.value.id == "pydantic"
        and n.attr != "BaseModel"
        and not _inside(n, removed)
        for n in kept
    )
    drop = {"BaseModel"} | (set() if keep_config_dict else {"ConfigDict"})
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "pydantic" and not stmt.level:
            aliases = [_alias(a) for a in stmt.names if a.name not in drop]
            edits.append(_Edit(*_span(stmt), _from_import("pydantic", aliases)))
        elif isinstance(stmt, ast.Import) and not pydantic_used and _plain_import(stmt, "pydantic"):
            edits.append(_Edit(*_span(stmt)))
    edits.extend(_cog_import(tree, "BaseModel"))
    return _apply(lines, edits)


def _plain_import(node: ast.Import, module: str) -> bool:
    return [a.name for a in node.names] == [module] and not node.names[0].asname


def _inside(node: ast.AST, statements: list[ast.stmt]) -> bool:
    return any(node is n for stmt in statements for n in ast.walk(stmt))


def _config_edits(node: ast.ClassDef, lines: list[str], removed: list[ast.stmt]) -> list[_Edit]:
    edits = []
    for stmt in node.body:
        if not arbitrary_types_config(stmt):
            continue
        assert isinstance(stmt, ast.Assign)
        assert isinstance(stmt.value, ast.Call)
        start, end = _span(stmt)
        indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
        call = stmt.value
        keywords = [k for k in call.keywords if k.arg != "arbitrary_types_allowed"]
        if call.args or keywords:
            new = ast.Assign(stmt.targets, ast.Call(call.func, call.args, keywords), lineno=0)
            edits.append(_Edit(start, end, (f"{indent}{ast.unparse(new)}\n",)))
            continue
        removed.append(stmt)
        alone = len(node.body) == 1
        edits.append(_Edit(start, end, (f"{indent}pass\n",) if alone else ()))
    return edits


def _cog_import(tree: ast.Module, name: str) -> list[_Edit]:
    after = 0
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.ImportFrom) and node.module == "cog" and not node.level:
            if any(a.name == name for a in node.names):
                return []
            aliases = [*(_alias(a) for a in node.names), name]
            return [_Edit(*_span(node), _from_import("cog", aliases))]
        docstring = (
            index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        )
        if docstring or (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            after = _span(node)[1]
    return [_Edit(after, after, (f"from cog import {name}\n",))]


def drop_imports(removed: Mapping[str, set[str]], text: str) -> str:
    """Removed names out of their imports, the top-level statements that use them, and an
    ``import X`` only those statements used (``warnings`` for ``filterwarnings``)."""
    tree = ast.parse(text)
    edits: list[_Edit] = []
    gone: set[str] = set()
    for node in tree.body:
        module = node.module if isinstance(node, ast.ImportFrom) and not node.level else None
        if module is None or module not in removed:
            continue
        assert isinstance(node, ast.ImportFrom)
        names = removed[module]
        dropped = [a for a in node.names if a.name in names]
        if dropped:
            gone |= {a.asname or a.name for a in dropped}
            kept = [_alias(a) for a in node.names if a.name not in names]
            edits.append(_Edit(*_span(node), _from_import(module, kept)))
    others = [n for n in tree.body if not isinstance(n, ast.Import | ast.ImportFrom)]
    using = [n for n in others if _names([n]) & gone]
    edits.extend(_Edit(*_span(n)) for n in using)
    still_used = _names(n for n in others if n not in using)
    orphans = _names(using) - still_used
    for node in tree.body:
        if isinstance(node, ast.Import) and len(node.names) == 1:
            alias = node.names[0]
            if (alias.asname or alias.name.split(".")[0]) in orphans:
                edits.append(_Edit(*_span(node)))
    return _apply(text.splitlines(keepends=True), edits)


def has_legacy_names(source: str) -> bool:
    return any(p.search(source) for p in (BASE_PREDICTOR, PREDICTOR_CLASS, PREDICT_METHOD))


class PredictToRun:
    """``predict: "predict.py:Predictor"`` and its predict.py, migrated to run.py's names.

    Both of the check's findings carry ``apply``; the second call only says it is done.
    """

    def __init__(self, project_dir: Path, config_path: Path) -> None:
        self.project_dir = project_dir
        self.config_path = config_path
        self.done = False

    def starter_shape(self) -> bool:
        return bool(PREDICT_REF.search(self.config_path.read_text(encoding="utf-8")))

    def source(self) -> str | None:
        try:
            return (self.project_dir / "predict.py").read_text(encoding="utf-8")
        except OSError:
            return None

    def apply(self) -> str:
        if self.done:
            return "migrated with the change above"
        config = self.config_path.read_text(encoding="utf-8")
        source = self._preflight(config)
        for pattern, replacement in (
            (BASE_PREDICTOR, "BaseRunner"),
            (PREDICTOR_CLASS, r"class Runner\1"),
            (PREDICT_METHOD, "def run("),
        ):
            source = pattern.sub(replacement, source)
        self.config_path.write_text(PREDICT_REF.sub('run: "run.py:Runner"', config))
        (self.project_dir / "run.py").write_text(source, encoding="utf-8")
        (self.project_dir / "predict.py").unlink()
        self.done = True
        return (
            "moved predict.py to run.py (Runner, BaseRunner, run()) and set run: in "
            + self.config_path.name
        )

    def _preflight(self, config: str) -> str:
        if RUN_REF.search(config):
            raise CogError("automatic migration cannot run when run is already set")
        manual = "Manual migration required: automatic migration only supports"
        if not PREDICT_REF.search(config):
            raise CogError(f"{manual} predict.py:Predictor")
        if (self.project_dir / "run.py").exists():
            raise CogError("cannot migrate predict.py to run.py because run.py already exists")
        source = self.source()
        if source is None:
            raise CogError("cannot migrate predict.py to run.py because predict.py was not found")
        if not has_legacy_names(source):
            raise CogError(
                "cannot migrate predict.py because no legacy Predictor/BasePredictor/predict() "
                "names were found"
            )
        if len(PREDICTOR_CLASS.findall(source)) != 1 or len(PREDICT_METHOD.findall(source)) != 1:
            raise CogError(f"{manual} a single Predictor class with a single predict method")
        return source
