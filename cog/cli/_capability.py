"""Commands whose capability has not landed yet fail here, naming what they wait for."""

from __future__ import annotations

import importlib
from typing import Any, NoReturn

from cog.errors import NotYetAvailableError


def not_yet(command: str, capability: str) -> NoReturn:
    raise NotYetAvailableError(
        f"`cog {command}` is not available yet: it needs {capability}, which has not landed "
        "in this version",
        "Use a later version of cog, or run the steps that are available (`cog init`, "
        "`cog schema`).",
    )


def capability(module: str, name: str, command: str) -> Any:
    """``module.name`` once its owner has landed it; NotYetAvailableError until then.

    Imported by name so that the CLI installs, type-checks and runs its other commands
    while a capability is still being written.
    """
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        not_yet(command, f"{module}.{name}")
