"""The ``cog`` command line."""

from __future__ import annotations

from cog.cli.main import main

__all__ = ["main"]
