"""Shared fixtures: load SDK fixture models without leaking sys.path or sys.modules."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cog._signature.introspect import load_entrypoint

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sdk"


@pytest.fixture
def load_fixture() -> Iterator[Callable[[str], object]]:
    """``load_fixture("outputs.py:Text")`` imports a fixture model freshly."""
    saved_path = list(sys.path)

    def load(ref: str) -> object:
        return load_entrypoint(FIXTURES, ref)

    yield load
    sys.path[:] = saved_path
    for name, module in list(sys.modules.items()):
        # Only the fixtures' own modules: dropping a library's would duplicate its classes.
        if str(getattr(module, "__file__", None) or "").startswith(str(FIXTURES)):
            del sys.modules[name]
