"""The static reader and introspection agree on every fixture model.

``cog build`` reads the signature from source; the worker reads it again by importing the
model. Where they disagree a model builds and then fails when its worker starts (or is
refused although it would run), so for every entry point of every fixture model both must
give equal Signatures or both raise SchemaError. The schema fixtures import libraries that
are not installed (torch, vllm...); they are stubbed while introspection imports them.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from cog._signature.introspect import load_entrypoint, signature_of
from cog._signature.model import Mode, Signature
from cog._signature.static import StaticAnalysisUndecided, signature_from_source
from cog.errors import SchemaError

from ._fixtures import MODELS

SDK_FIXTURES = MODELS.parent.parent / "sdk"
_STUBBED = ("torch", "numpy", "PIL", "vllm", "transformers", "openai")
_ENTRY_NAMES = ("run", "predict", "train")


@dataclass(frozen=True)
class Entry:
    project: Path
    ref: str
    mode: Mode

    @property
    def id(self) -> str:
        return f"{self.project.name}/{self.ref}:{self.mode.value}"


def _entries_in(project: Path, path: Path) -> Iterator[Entry]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name in _ENTRY_NAMES:
                mode = Mode.TRAIN if node.name == "train" else Mode.PREDICT
                yield Entry(project, f"{path.name}:{node.name}", mode)
        elif isinstance(node, ast.ClassDef):
            methods = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            }
            bases = " ".join(ast.unparse(b) for b in node.bases)
            if "train" in methods:
                yield Entry(project, f"{path.name}:{node.name}", Mode.TRAIN)
            if methods & {"run", "predict"} or ("Runner" in bases or "Predictor" in bases):
                yield Entry(project, f"{path.name}:{node.name}", Mode.PREDICT)


def fixture_entries() -> list[Entry]:
    """Every entry point in tests/fixtures/schema/models/* and tests/fixtures/sdk."""
    projects = [p for p in sorted(MODELS.iterdir()) if p.is_dir()] + [SDK_FIXTURES]
    return [
        entry
        for project in projects
        for path in sorted(project.glob("*.py"))
        for entry in _entries_in(project, path)
    ]


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _StubModule(spec.name)
        module.__path__ = []  # a package, so `from vllm.entrypoints.x import Y` works
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass  # nothing to run: every attribute is made on demand


class _StubModule(types.ModuleType):
    def __getattr__(self, name: str) -> type:
        if name.startswith("__"):
            raise AttributeError(name)
        stub = type(name, (), {"__module__": self.__name__})
        setattr(self, name, stub)
        return stub


class _StubFinder(importlib.abc.MetaPathFinder):
    """Stands in for the fixtures' uninstalled libraries, as bare classes."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in _STUBBED:
            return None
        return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Stubs on, then sys.path, sys.modules and the finder list as they were."""
    saved_path, saved_modules = list(sys.path), set(sys.modules)
    finder = _StubFinder()
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.path[:] = saved_path
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]


def _static(entry: Entry) -> Signature | SchemaError:
    try:
        return signature_from_source(entry.project, entry.ref, entry.mode)
    except SchemaError as error:
        return error


def _introspected(entry: Entry) -> Signature | SchemaError:
    try:
        return signature_of(load_entrypoint(entry.project, entry.ref), entry.mode)
    except SchemaError as error:
        return error


ENTRIES = fixture_entries()


@pytest.mark.unit
@pytest.mark.usefixtures("isolated_imports")
@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_static_and_introspected_signatures_agree(entry: Entry) -> None:
    static = _static(entry)
    introspected = _introspected(entry)
    if isinstance(static, StaticAnalysisUndecided):
        # The build imports the model then, so it reads what the worker reads.
        return
    if isinstance(static, SchemaError) or isinstance(introspected, SchemaError):
        assert (type(static).__name__, type(introspected).__name__) == (
            "SchemaError",
            "SchemaError",
        ), f"static: {static}\nintrospected: {introspected}"
    else:
        assert static == introspected
        # Not part of Signature equality, but `cog build` shows the static reader's.
        assert static.warnings == introspected.warnings


EDGE_CASES = [e for e in ENTRIES if e.ref.startswith("edge_cases.py:")]


@pytest.mark.unit
@pytest.mark.usefixtures("isolated_imports")
@pytest.mark.parametrize("entry", EDGE_CASES, ids=[e.id for e in EDGE_CASES])
def test_edge_cases_are_what_their_names_say(entry: Entry) -> None:
    # Accepted* must load in the worker and Rejected* must not, or agreeing proves little.
    accepted = entry.ref.partition(":")[2].startswith("Accepted")
    assert isinstance(_introspected(entry), Signature) is accepted
    assert isinstance(_static(entry), Signature) is accepted


@pytest.mark.unit
def test_every_fixture_model_is_compared() -> None:
    # An entry point silently dropped from the enumeration would shrink the test above.
    assert len(ENTRIES) >= 170
    assert len(EDGE_CASES) >= 72  # issue 20 added Literal, union outputs, TypedDicts...
    projects = {e.project for e in ENTRIES}
    assert SDK_FIXTURES in projects
    assert {p for p in MODELS.iterdir() if p.is_dir()} <= projects
