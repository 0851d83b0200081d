"""Which part may import which (ARCHITECTURE.md, "Layers"), read from the source with ast.

- ``rules/`` (cog.rules) takes from the rest of cog only ``cog.errors``, ``cog.progress``,
  ``cog.third_party`` and the HTTP seam ``cog._net``: build rules are pure functions of
  their inputs.
- ``runtime/`` (cog.runtime) never imports ``cog.rules``: the server runs no build code.
- The worker side (what ``python -m cog.runtime.worker`` loads, the process that imports
  the model) imports only the SDK and the standard library: nothing of the supervisor
  (trio, Hypercorn, Quart, pydantic, requests, yaml, the server's modules), none of which
  is on the model's sys.path.
- The two sides of the pipe share only what it carries: the worker's runtime modules are
  the package ``cog.runtime.worker`` plus ``_messages`` and ``_pipe``; the supervisor's
  (the rest of runtime/) never import ``cog.runtime.worker``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PARTS = {
    "cog": "cog",
    "cog.rules": "rules",
    "cog.runtime": "runtime",
    "cog.third_party": "third_party",
}
# cog._net is the one HTTP seam (timeouts, CA bundles, proxies, retries, a transport tests
# replace) that rules/ and runtime/ share: it imports nothing of cog, only requests.
RULES_MAY_IMPORT = ("cog.errors", "cog.progress", "cog.third_party", "cog.rules", "cog._net")
# The parts of cog a worker never loads: the CLI and everything that builds or runs images.
# cog._net too: the supervisor's outbound HTTP (requests), never the model's process.
HOST_ONLY = (
    "cog.cli",
    "cog._container",
    "cog.rules",
    "cog.building",
    "cog.locking",
    "cog._diagnosis",
    "cog._net",
)
WORKER_PACKAGE = "cog.runtime.worker"
WORKER_ENTRY = "cog.runtime.worker.__main__"
# The runtime modules both sides load: the package (its __init__ and the settings it reads),
# the messages and their framing on the pipe.
SHARED = ("cog.runtime", "cog.runtime.settings", "cog.runtime._messages", "cog.runtime._pipe")
# What the supervisor runs on (installed apart from the model's packages).
SUPERVISOR_PACKAGES = {
    "trio",
    "hypercorn",
    "h11",
    "quart",
    "quart_trio",
    "pydantic",
    "requests",
    "yaml",
}


@dataclass(frozen=True)
class Import:
    name: str  # the module imported (or the module an imported name lives in)
    line: int
    top_level: bool  # runs when the module is imported, not only when a function is called


def _file(module: str) -> Path | None:
    for package, folder in sorted(PARTS.items(), key=lambda p: -len(p[0])):
        if module == package or module.startswith(package + "."):
            base = ROOT / folder
            rest = module[len(package) :].lstrip(".")
            if rest:
                base = base.joinpath(*rest.split("."))
            for path in (base.with_suffix(".py"), base / "__init__.py"):
                if path.is_file():
                    return path
            return None
    return None


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT)
    folder = rel.parts[0]
    package = next(p for p, f in PARTS.items() if f == folder)
    parts = [p for p in rel.with_suffix("").parts[1:] if p != "__init__"]
    return ".".join([package, *parts])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(nodes: list[ast.stmt], top_level: bool) -> Iterator[tuple[ast.stmt, bool]]:
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _walk(node.orelse, top_level)
            continue
        yield node, top_level
        inner = not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                yield from _walk([child], top_level and inner)
            elif isinstance(child, ast.ExceptHandler | ast.match_case):
                yield from _walk(child.body, top_level and inner)


def imports(path: Path) -> list[Import]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []
    for node, top_level in _walk(ast.parse(path.read_text()).body, True):
        if isinstance(node, ast.Import):
            found += [Import(a.name, node.lineno, top_level) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            for alias in node.names:
                # `from pkg import mod` imports the module pkg.mod; `from mod import name` mod.
                submodule = f"{base}.{alias.name}"
                name = submodule if _file(submodule) is not None else base
                found.append(Import(name, node.lineno, top_level))
    return found


def _sources(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_rules_import_only_errors_progress_and_third_party() -> None:
    found = set()
    for path in _sources("rules"):
        for imp in imports(path):
            if _within(imp.name, ("cog",)) and not _within(imp.name, RULES_MAY_IMPORT):
                found.add((path.relative_to(ROOT).as_posix(), imp.name))
    assert found == set()


def test_the_runtime_never_imports_rules() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{imp.line}: {imp.name}"
        for path in _sources("runtime")
        for imp in imports(path)
        if _within(imp.name, ("cog.rules",))
    ]
    assert found == []


def test_the_http_seam_imports_nothing_of_cog() -> None:
    # Shared by rules/ and runtime/, it must bring neither the other's code nor the CLI's.
    found = [
        f"{path.relative_to(ROOT)}:{imp.line}: {imp.name}"
        for path in sorted((ROOT / "cog" / "_net").glob("*.py"))
        for imp in imports(path)
        if _within(imp.name, ("cog",)) and not _within(imp.name, ("cog._net",))
    ]
    assert found == []


def _worker_side() -> dict[str, list[Import]]:
    """Every module of ours the worker loads, with the imports that load things there.

    In the runtime modules the worker's code imports, every import counts (the worker
    calls their functions); in the packages loaded on the way (cog.runtime's __init__,
    and the settings it imports, serve the supervisor) and in the SDK's modules, those
    that run at import time: a function's own import there is for the supervisor, or of
    the model's packages when the model uses what needs them.
    """
    loaded: dict[str, list[Import]] = {}
    seen: set[tuple[str, bool]] = set()
    todo = [(WORKER_ENTRY, True)]
    while todo:
        module, called = todo.pop()
        every = called and _within(module, ("cog.runtime",))
        path = _file(module)
        if (module, every) in seen or path is None:
            continue
        seen.add((module, every))
        found = [i for i in imports(path) if every or i.top_level]
        loaded[module] = found if every else loaded.get(module, found)
        parent = module.rpartition(".")[0]
        todo += [(parent, False)] if parent else []
        todo += [(i.name, every) for i in found if _within(i.name, ("cog",))]
    return loaded


def _third_party(name: str) -> bool:
    top = name.split(".", maxsplit=1)[0]
    return top != "cog" and top not in sys.stdlib_module_names and top != "__future__"


def test_the_worker_side_imports_only_the_sdk() -> None:
    loaded = _worker_side()
    # the walk found the worker
    assert {WORKER_ENTRY, f"{WORKER_PACKAGE}._process", "cog", "cog._sdk"} <= set(loaded)
    problems = []
    for module, found in sorted(loaded.items()):
        for imp in found:
            if _third_party(imp.name) or _within(imp.name, HOST_ONLY):
                problems.append(f"{module}:{imp.line}: {imp.name}")
    assert problems == []


def test_the_worker_side_loads_nothing_of_the_supervisor() -> None:
    # A runtime module that uses the supervisor's packages anywhere, even inside a function,
    # is the supervisor's. The package's own __init__ is shared: its serve_local() imports
    # trio for `cog serve --local`, which a worker never calls.
    found = []
    for module in _worker_side():
        path = _file(module)
        if not _within(module, ("cog.runtime",)) or module == "cog.runtime" or path is None:
            continue
        uses = {i.name.split(".")[0] for i in imports(path)} & SUPERVISOR_PACKAGES
        if uses:
            found.append(f"{module}: {', '.join(sorted(uses))}")
    assert found == []


def test_the_sides_of_the_pipe_share_only_its_messages() -> None:
    worker_runtime = {m for m in _worker_side() if _within(m, ("cog.runtime",))}
    assert {f"{WORKER_PACKAGE}._runners", f"{WORKER_PACKAGE}._capture"} <= worker_runtime
    assert sorted(m for m in worker_runtime if not _within(m, (WORKER_PACKAGE, *SHARED))) == []
    supervisor = [
        f"{path.relative_to(ROOT)}:{imp.line}: {imp.name}"
        for path in _sources("runtime")
        if not _within(_module(path), (WORKER_PACKAGE,))
        for imp in imports(path)
        if _within(imp.name, (WORKER_PACKAGE,))
    ]
    assert supervisor == []


def test_the_import_reader_sees_what_it_must() -> None:
    # The rules above pass vacuously if imports are misread: check the reader on itself.
    source = ROOT / "runtime" / "__init__.py"
    names = {(i.name, i.top_level) for i in imports(source)}
    assert ("cog.runtime.settings", True) in names
    assert ("cog.runtime._server", False) in names  # inside __getattr__
    assert ("trio", False) in names  # inside serve_local
    # the TYPE_CHECKING import of _server is not there at top level
    assert ("cog.runtime._server", True) not in names


def test_no_two_modules_share_a_name() -> None:
    # A module's name says which it is without its package, a leading "_" aside: the
    # registry client, the CLI commands and the libraries they call are told apart by
    # name (cog.predictor, cog.types and cog.errors keep the reference's public names;
    # their internal namesakes were renamed).
    where: dict[str, list[str]] = {}
    for folder in PARTS.values():
        for source in _sources(folder):
            module = source.parent if source.name in ("__init__.py", "__main__.py") else source
            name = module.name.removesuffix(".py").lstrip("_")
            where.setdefault(name, []).append(str(module.relative_to(ROOT)))
    shared = {name: sorted(set(paths)) for name, paths in where.items() if len(set(paths)) > 1}
    assert shared == {}
