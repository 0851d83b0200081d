"""Imports a model's code makes of packages only the runtime used to bring along.

Cog 0.8 to 0.16 installed its own dependencies (pydantic, requests, pyyaml...) next to
the model's, so published models often import them without listing them. Here the
runtime's copies are on the supervisor's path only: such an import would fail when the
model loads, so `cog build` says which ones to add, before anything runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

# Top-level import name -> the distribution the runtime carries it in.
RUNTIME_MODULES = {
    "attr": "attrs",
    "attrs": "attrs",
    "certifi": "certifi",
    "charset_normalizer": "charset-normalizer",
    "click": "click",
    "flask": "flask",
    "h11": "h11",
    "hypercorn": "hypercorn",
    "idna": "idna",
    "jinja2": "jinja2",
    "markupsafe": "markupsafe",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic-core",
    "quart": "quart",
    "requests": "requests",
    "sniffio": "sniffio",
    "trio": "trio",
    "typing_extensions": "typing-extensions",
    "urllib3": "urllib3",
    "werkzeug": "werkzeug",
    "yaml": "pyyaml",
}


def _top_level_imports(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()  # the schema reader reports a broken file with its line
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.partition(".")[0])
    return names


def undeclared_runtime_imports(
    project_dir: Path, code_files: Iterable[str], model_wheels: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(file, import name, distribution) for each import the model's own set lacks."""
    have = set(model_wheels)
    local = {Path(rel).parts[0].removesuffix(".py") for rel in code_files}
    found: list[tuple[str, str, str]] = []
    for rel in code_files:
        if not rel.endswith(".py"):
            continue
        try:
            source = (project_dir / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for name in sorted(_top_level_imports(source)):
            dist = RUNTIME_MODULES.get(name)
            if dist is not None and dist not in have and name not in local:
                found.append((rel, name, dist))
    return found
