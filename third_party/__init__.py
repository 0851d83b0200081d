"""Pinned data the build depends on. Installed as ``cog.third_party``; imports nothing."""

from importlib.resources import files
from importlib.resources.abc import Traversable


def data_file(name: str) -> Traversable:
    """A data file shipped beside this module."""
    return files(__name__).joinpath(name)
