"""The names models built with Cog 0.8 to 0.16 import, with the signatures they call.

``cog.__all__`` stays 0.23.1's (tests/sdk/test_public_surface.py); the older names are
importable where the reference had them, without joining a star import.
"""

from __future__ import annotations

import inspect
import json
import pickle
import subprocess
import sys

import pytest

import cog
import cog.types
from cog._sdk.scope import prediction_scope

# Every name a published model imports from cog, 0.8 to 0.16.
COG_NAMES = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "File",
    "Input",
    "Path",
    "Secret",
    "__version__",
    "current_scope",
    "emit_metric",
]
TYPES_NAMES = [
    "AsyncConcatenateIterator",
    "CogBuildConfig",
    "CogConfig",
    "ConcatenateIterator",
    "ExperimentalFeatureWarning",
    "FILENAME_ILLEGAL_CHARS",
    "FILENAME_MAX_LENGTH",
    "File",
    "Input",
    "PYDANTIC_V2",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "Weights",
    "get_filename",
]


@pytest.mark.unit
@pytest.mark.parametrize("name", COG_NAMES)
def test_cog_names(name: str) -> None:
    assert getattr(cog, name) is not None


@pytest.mark.unit
@pytest.mark.parametrize("name", TYPES_NAMES)
def test_cog_types_names(name: str) -> None:
    assert getattr(cog.types, name) is not None


@pytest.mark.unit
def test_the_same_objects_everywhere() -> None:
    assert cog.types.Input is cog.Input
    assert cog.types.Weights is cog.Path
    assert cog.types.ExperimentalFeatureWarning is cog.ExperimentalFeatureWarning
    assert cog.types.PYDANTIC_V2 is True  # this environment's pydantic is 2.x
    limits = (cog.types.FILENAME_MAX_LENGTH, cog.types.FILENAME_ILLEGAL_CHARS)
    assert limits == (200, {"\0", "/"})


@pytest.mark.integration
def test_star_import_of_cog_types_is_the_reference_all() -> None:
    probe = "from cog.types import *; print(sorted(k for k in dir() if not k.startswith('_')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == repr(sorted(cog.types.__all__))


@pytest.mark.unit
def test_legacy_signatures() -> None:
    setup = inspect.signature(cog.BasePredictor.setup)
    assert list(setup.parameters) == ["self", "weights"]
    assert setup.parameters["weights"].default is None
    assert "predict" in vars(cog.BaseRunner)
    assert list(inspect.signature(cog.emit_metric).parameters) == ["name", "value"]
    input_params = inspect.signature(cog.Input).parameters
    for name in ("default", "description", "ge", "le", "min_length", "max_length", "regex",
                 "choices", "deprecated"):  # fmt: skip
        assert name in input_params


@pytest.mark.unit
def test_context_can_be_returned_and_stays_read_only() -> None:
    with prediction_scope(context={"user": "ada"}) as scope:
        context = cog.current_scope().context
        assert context is scope.context
        assert json.dumps(context) == '{"user": "ada"}'
        assert isinstance(context, dict)
        copied = pickle.loads(pickle.dumps(context))
        assert (type(copied), copied) == (dict, {"user": "ada"})
        for mutate in (
            lambda: context.__setitem__("user", "eve"),
            lambda: context.update(user="eve"),
            lambda: context.pop("user"),
            context.clear,
        ):
            with pytest.raises(TypeError, match="read-only"):
                mutate()
        assert context == {"user": "ada"}
