"""`cog doctor`'s checks of the model's code, the reference's: the run/train reference names
a class that exists, legacy predict names, removed imports, pydantic.BaseModel where
cog.BaseModel is meant, and missing return annotations.

Only the files cog.yaml's ``run``/``predict`` and ``train`` name are read (parsed with
``ast``, never imported), as the reference reads them.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cog._diagnosis import fixes
from cog._diagnosis.finding import Finding
from cog.config import Config

TOP_LEVEL_PREDICT = re.compile(r"(?m)^predict\s*:")


@dataclass(frozen=True)
class Deprecated:
    module: str
    name: str
    message: str
    hint: str
    removable: bool  # --fix deletes the import (and statements using it)


_EFW = Deprecated(
    "cog.types",
    "ExperimentalFeatureWarning",
    "ExperimentalFeatureWarning was removed in cog 0.17; "
    "current_scope().record_metric() is no longer experimental",
    "Remove the import of ExperimentalFeatureWarning from cog.types",
    removable=True,
)
DEPRECATED_IMPORTS = (
    _EFW,
    Deprecated("cog", _EFW.name, _EFW.message, _EFW.hint.replace("cog.types", "cog"), True),
)
# Still working here, but deprecated: said as warnings, with no automatic fix.
DEPRECATED_WARNINGS = tuple(
    Deprecated(module, name, message, hint, removable=False)
    for module in ("cog", "cog.types")
    for name, message, hint in (
        (
            "File",
            "cog.File is deprecated and will be removed in a future version of Cog; "
            "use cog.Path instead",
            "Replace File with Path (from cog) in the inputs and outputs",
        ),
        (
            "emit_metric",
            "emit_metric() is deprecated and will be removed in a future release",
            "Use current_scope().record_metric(name, value) instead",
        ),
    )
)


@dataclass(frozen=True)
class Source:
    path: str  # as cog.yaml names it, relative to the project
    text: str
    tree: ast.Module


def code_findings(project_dir: Path, config: Config) -> Iterator[Finding]:
    sources = _sources(project_dir, config)
    yield from _deprecated_fields(config)
    yield from _reference_findings(config, sources)
    for source in sources.values():
        yield from _pydantic_findings(project_dir, source)
        yield from _import_findings(project_dir, source)
    yield from _annotation_findings(config, sources)
    # Last: its fix moves predict.py, which the fixes above may have rewritten.
    yield from _migration_findings(project_dir, config)


def split_ref(ref: str) -> tuple[str, str]:
    path, _, name = ref.rpartition(":")
    return (path, name) if path else (ref, "")


def _sources(project_dir: Path, config: Config) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for ref in (config.predict, config.train):
        path = split_ref(ref)[0] if ref else ""
        if not path or path in sources:
            continue
        try:
            text = (project_dir / path).read_text(encoding="utf-8")
            sources[path] = Source(path, text, ast.parse(text, path))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue  # cog.yaml's own check (or the schema) says what is wrong with it
    return sources


def _top_level(tree: ast.Module) -> dict[str, ast.stmt]:
    """The names a module defines: classes, functions, assignments and imports, also
    under a top-level ``if``/``try``/``with``."""
    found: dict[str, ast.stmt] = {}
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            found.setdefault(node.name, node)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                found.setdefault((alias.asname or alias.name).split(".")[0], node)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "finalbody"):
                pending.extend(getattr(node, field, ()))
            for handler in getattr(node, "handlers", ()):
                pending.extend(handler.body)
    return found


def _deprecated_fields(config: Config) -> Iterator[Finding]:
    """Legacy build keys that still load (warnings, no automatic fix), as the reference's
    config-deprecated-fields says them."""
    for field, present, why, replacement in (
        (
            "python_packages",
            config.build.python_packages,
            "list the packages in a requirements file",
            "python_requirements",
        ),
        (
            "pre_install",
            config.build.pre_install,
            "build.run runs commands during the build",
            "build.run",
        ),
    ):
        if present:
            yield Finding(
                "config-deprecated-fields",
                False,
                f'"{field}" is deprecated: {why}',
                f'Use "{replacement}" instead',
                warning=True,
                file=config.path.name,
            )


def _reference_findings(config: Config, sources: dict[str, Source]) -> Iterator[Finding]:
    for key, ref in (("run", config.predict), ("train", config.train)):
        path, name = split_ref(ref or "")
        if path not in sources or not name:
            continue
        defined = _top_level(sources[path].tree)
        if name in defined:
            continue
        classes = [n for n, node in defined.items() if isinstance(node, ast.ClassDef)]
        message = f'class "{name}" not found in {path}'
        if classes:
            message += f"; found: {', '.join(classes)}"
        yield Finding(
            "config-predict-ref",
            False,
            message,
            f"Add class {name} to {path} or update the {key} field in {config.path.name}",
            file=path,
        )


def _migration_findings(project_dir: Path, config: Config) -> Iterator[Finding]:
    text = config.path.read_text(encoding="utf-8")
    if not TOP_LEVEL_PREDICT.search(text):
        return
    migration = fixes.PredictToRun(project_dir, config.path)
    yield Finding(
        "predict-to-run-migration",
        False,
        f"predict in {config.path.name} is deprecated; use run with run.py:Runner",
        "Run cog doctor --fix to migrate predict: to run:",
        fix=migration.apply,
        warning=True,
        file=config.path.name,
    )
    if migration.starter_shape() and fixes.has_legacy_names(migration.source() or ""):
        yield Finding(
            "predict-to-run-migration",
            False,
            "predict.py uses deprecated Predictor/BasePredictor/predict() names",
            "Run cog doctor --fix to migrate to Runner/BaseRunner/run()",
            fix=migration.apply,
            warning=True,
            file="predict.py",
        )


def _pydantic_findings(project_dir: Path, source: Source) -> Iterator[Finding]:
    for node in fixes.pydantic_classes(source.tree):
        yield Finding(
            "python-pydantic-basemodel",
            False,
            f"{node.name} inherits from pydantic.BaseModel with arbitrary_types_allowed; "
            "use cog.BaseModel instead",
            "Replace pydantic.BaseModel with cog.BaseModel and remove "
            "ConfigDict(arbitrary_types_allowed=True)",
            fix=fixes.rewrite(project_dir / source.path, fixes.use_cog_base_model),
            file=source.path,
            line=node.lineno,
        )


def _import_findings(project_dir: Path, source: Source) -> Iterator[Finding]:
    for node in source.tree.body:
        if not isinstance(node, ast.ImportFrom) or node.level:
            continue
        for alias in node.names:
            for dep in (*DEPRECATED_IMPORTS, *DEPRECATED_WARNINGS):
                if (node.module, alias.name) != (dep.module, dep.name):
                    continue
                fix = None
                if dep.removable:
                    drop = partial(fixes.drop_imports, removed_imports())
                    fix = fixes.rewrite(project_dir / source.path, drop)
                yield Finding(
                    "python-deprecated-imports",
                    False,
                    dep.message,
                    dep.hint,
                    fix=fix,
                    warning=not dep.removable,
                    file=source.path,
                    line=node.lineno,
                )


def removed_imports() -> dict[str, set[str]]:
    """Module -> the names --fix removes from its imports."""
    out: dict[str, set[str]] = {}
    for dep in DEPRECATED_IMPORTS:
        out.setdefault(dep.module, set()).add(dep.name)
    return out


def _annotation_findings(config: Config, sources: dict[str, Source]) -> Iterator[Finding]:
    for ref, methods in ((config.predict, ("run", "predict")), (config.train, ("train",))):
        path, name = split_ref(ref or "")
        node = _top_level(sources[path].tree).get(name) if path in sources else None
        if not isinstance(node, ast.ClassDef):
            continue
        defs = {
            d.name: d
            for d in node.body
            if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef) and d.name in methods
        }
        method = next((defs[m] for m in methods if m in defs), None)
        if method is None or method.returns is not None:
            continue
        yield Finding(
            "python-missing-type-annotations",
            False,
            f"{name}.{method.name}() is missing a return type annotation",
            f"Add a return type annotation: def {method.name}(self, ...) -> YourType:",
            warning=True,
            file=path,
            line=method.lineno,
        )
