"""End-to-end fixtures: the real registry, and the installed `cog` command."""

from __future__ import annotations

from tests.support.registry import registry

__all__ = ["registry"]
