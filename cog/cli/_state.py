"""Global CLI settings (--debug, --no-color) shared with every command through click's context."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import click


@dataclass(frozen=True)
class CliState:
    debug: bool = False
    color: bool = True


def color_allowed(no_color_flag: bool, environ: Mapping[str, str] | None = None) -> bool:
    """--no-color, NO_COLOR (https://no-color.org: any non-empty value) or COG_NO_COLOR."""
    env = os.environ if environ is None else environ
    return not (no_color_flag or env.get("NO_COLOR") or env.get("COG_NO_COLOR"))


def state() -> CliState:
    """The running command's settings (defaults when a command is invoked on its own)."""
    context = click.get_current_context(silent=True)
    while context is not None:
        if isinstance(context.obj, CliState):
            return context.obj
        context = context.parent
    return CliState(color=color_allowed(False))
