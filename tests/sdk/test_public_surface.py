"""The exact public names of ``cog``: adding or dropping one must be a deliberate change."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

import cog
import cog.exceptions
import cog.types
from cog import _version as cog_version

ALL = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "FieldInfo",
    "File",
    "Input",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "__version__",
    "concurrent",
    "current_scope",
    "emit_metric",
    "streaming",
]
# Deprecated shims resolve lazily (printing a note), so they are not in dir() until used.
LAZY = {"ExperimentalFeatureWarning", "emit_metric"}


@pytest.mark.unit
def test_all_is_pinned() -> None:
    assert sorted(cog.__all__) == ALL


@pytest.mark.unit
def test_dir_visible_names_are_exactly_all() -> None:
    # Submodules (cog.types, cog.cli, ...) become attributes once imported; they are not names.
    visible = {
        name
        for name in dir(cog)
        if not name.startswith("_") and not isinstance(getattr(cog, name), types.ModuleType)
    }
    assert visible | LAZY == {n for n in ALL if not n.startswith("_")}


@pytest.mark.integration
def test_star_import_in_a_fresh_interpreter() -> None:
    probe = "from cog import *; print(sorted(k for k in dir() if not k.startswith('_')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == repr(sorted(n for n in ALL if not n.startswith("_")))
    # The deprecated shims say so on stderr (not via warnings, so filters cannot hide it).
    assert "ExperimentalFeatureWarning is deprecated" in done.stderr
    assert "emit_metric() is deprecated" in done.stderr


@pytest.mark.unit
def test_cancelation_exception_is_a_base_exception() -> None:
    assert cog.CancelationException is cog.exceptions.CancelationException
    assert issubclass(cog.CancelationException, BaseException)
    assert not issubclass(cog.CancelationException, Exception)


@pytest.mark.unit
def test_types_module_matches_top_level() -> None:
    for name in ["Path", "File", "Secret", "URLFile", "URLPath", "ConcatenateIterator"]:
        assert getattr(cog.types, name) is getattr(cog, name)
    assert cog.FieldInfo is type(cog.Input(description="x"))


@pytest.mark.unit
def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        importlib.import_module("cog").nope  # noqa: B018


@pytest.mark.unit
def test_version_is_the_package_version() -> None:
    assert cog.__version__ == cog_version.__version__
