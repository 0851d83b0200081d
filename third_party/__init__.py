"""Pinned data the build depends on. Installed as ``cog.third_party``; imports nothing."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable


def data_file(name: str) -> Traversable:
    """A data file shipped beside this module."""
    if sys.version_info < (3, 9):  # noqa: UP036 inside an image whose Python is 3.8: no files()
        from pathlib import Path  # noqa: PLC0415

        return Path(__file__).with_name(name)
    from importlib.resources import files  # noqa: PLC0415

    return files(__name__).joinpath(name)
