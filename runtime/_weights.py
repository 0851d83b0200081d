"""The ``weights`` argument of setup(): from COG_WEIGHTS, else a ``weights`` path in the project.

Typed as the model asks: ``str`` gets the value as is, ``File`` an open file, ``Path`` a
path (a URL becomes cog's URLPath, fetched when the model reads it), as the reference does.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Callable
from typing import Any

from cog._compat import UNION_ORIGINS


def _weights_type(setup: Callable[..., Any]) -> object:
    try:
        hints = typing.get_type_hints(setup)
    except (NameError, TypeError):
        return None
    hint = hints.get("weights")
    if typing.get_origin(hint) in UNION_ORIGINS:
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        hint = members[0] if members else None
    return hint


def weights_argument(setup: Callable[..., Any], weights: str | None, project_dir: str) -> object:
    from cog._sdk.types import File, Path  # noqa: PLC0415 (keep the worker's start lean)

    source = weights
    if not source:
        local = os.path.join(project_dir, "weights")
        if not os.path.exists(local):
            return None
        source = local
    kind = _weights_type(setup)
    if kind is str:
        return source
    if isinstance(kind, type) and issubclass(kind, File):
        if "://" in source:
            return File.validate(source)
        return open(source, "rb")
    return Path.validate(source)
