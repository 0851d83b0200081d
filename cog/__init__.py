"""Cog: package a machine-learning model as an OCI image that serves an HTTP prediction API.

This module is the SDK's whole public face::

    from cog import BaseRunner, Input, Path

    class Runner(BaseRunner):
        def setup(self) -> None:
            self.model = load_model()

        def run(self, prompt: str = Input(description="Input prompt")) -> str:
            return self.model.generate(prompt)
"""

import sys as _sys
from collections.abc import Callable as _Callable

from cog._sdk.base_model import BaseModel as BaseModel
from cog._sdk.input import FieldInfo as FieldInfo
from cog._sdk.input import Input as Input
from cog._sdk.runner import BasePredictor as BasePredictor
from cog._sdk.runner import BaseRunner as BaseRunner
from cog._sdk.runner import concurrent as concurrent
from cog._sdk.runner import streaming as streaming
from cog._sdk.scope import current_scope as current_scope
from cog._sdk.value_types import AsyncConcatenateIterator as AsyncConcatenateIterator
from cog._sdk.value_types import ConcatenateIterator as ConcatenateIterator
from cog._sdk.value_types import File as File
from cog._sdk.value_types import Opaque as Opaque
from cog._sdk.value_types import Path as Path
from cog._sdk.value_types import Secret as Secret
from cog._sdk.value_types import URLFile as URLFile
from cog._sdk.value_types import URLPath as URLPath
from cog._version import __version__ as __version__
from cog.exceptions import CancelationException as CancelationException

__all__ = [
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


class _ExperimentalFeatureWarning(FutureWarning):
    """Deprecated and unused: kept so that old models importing it still load."""


def _emit_metric(name: str, value: float) -> None:
    current_scope().record_metric(name, value)


_DEPRECATED: "dict[str, tuple[object, str]]" = {
    "ExperimentalFeatureWarning": (
        _ExperimentalFeatureWarning,
        "cog: ExperimentalFeatureWarning is deprecated and will be removed in a future "
        "release. Remove `ExperimentalFeatureWarning` from your imports and any associated "
        "`warnings.filterwarnings(...)` calls.",
    ),
    "emit_metric": (
        _emit_metric,
        "cog: emit_metric() is deprecated and will be removed in a future release. "
        "Use current_scope().record_metric(name, value) instead.",
    ),
}


def __getattr__(name: str) -> object:
    # Printed, not warnings.warn(): a model's filterwarnings("ignore") must not hide it.
    # Cached in the module so the note prints once.
    if name in _DEPRECATED:
        value, note = _DEPRECATED[name]
        print(note, file=_sys.stderr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cog' has no attribute {name!r}")


ExperimentalFeatureWarning: "type[FutureWarning]"
emit_metric: "_Callable[[str, float], None]"
