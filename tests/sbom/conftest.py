"""Registry fixture for the referrer tests (tests/support/registry.py)."""

from __future__ import annotations

from tests.support.registry import Registry, registry

__all__ = ["Registry", "registry"]
