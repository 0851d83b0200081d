"""``cog.types``: the reference's public module of value types (same objects as ``cog.*``).

Besides the current names it keeps those that models built with Cog 0.8 to 0.16 import
from here: ``Input``, ``Weights`` (the type of setup()'s ``weights``), the cog.yaml
TypedDicts, the filename limits and ``PYDANTIC_V2``.
"""

from __future__ import annotations

from typing import Any, TypedDict

from cog._sdk.input import Input as Input  # noqa: PLC0414 (exported, outside __all__)
from cog._sdk.value_types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Path,
    Secret,
    URLFile,
    URLPath,
    get_filename,
)

__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
    "get_filename",
]

Weights = Path
"""What setup(self, weights) receives: a path (a URL is fetched when the model reads it)."""

FILENAME_ILLEGAL_CHARS = set("\u0000/")
FILENAME_MAX_LENGTH = 200


class CogBuildConfig(TypedDict, total=False):
    cuda: str | None
    gpu: bool | None
    python_packages: list[str] | None
    system_packages: list[str] | None
    python_requirements: str | None
    python_version: str | None
    run: list[str] | list[dict[str, Any]] | None


class CogConfig(TypedDict, total=False):
    build: CogBuildConfig
    image: str
    predict: str
    train: str


def __getattr__(name: str) -> object:
    if name == "PYDANTIC_V2":
        # Whether the model's own pydantic is 2.x, without importing it (the SDK never does).
        from importlib import metadata  # noqa: PLC0415

        try:
            return not metadata.version("pydantic").startswith("1.")
        except metadata.PackageNotFoundError:
            return False
    if name == "ExperimentalFeatureWarning":
        import cog  # noqa: PLC0415

        return cog.ExperimentalFeatureWarning
    raise AttributeError(f"module 'cog.types' has no attribute {name!r}")


PYDANTIC_V2: bool
