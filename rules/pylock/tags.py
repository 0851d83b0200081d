"""Choosing the one wheel uv would install among the target-compatible ones it lists."""

from __future__ import annotations

import re

_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def _platform_rank(tag: str) -> tuple[int, int, int]:
    if tag == "any":
        return (0, 0, 0)
    m = _MANYLINUX.match(tag)
    if m:
        return (1, int(m[1]), int(m[2]))
    for prefix, (major, minor) in _LEGACY.items():
        if tag.startswith(prefix + "_"):
            return (1, major, minor)
    return (1, 0, 0)  # musllinux or linux_*: uv listed it, so it is compatible


def _interpreter_rank(python_tag: str, abi_tag: str, cp: str) -> tuple[int, int]:
    # Exact interpreter and ABI first, then the stable ABI, then pure-Python tags.
    best = 0
    for py in python_tag.split("."):
        if py == cp and abi_tag not in ("none", "abi3"):
            best = max(best, 4)
        elif abi_tag == "abi3" and py.startswith("cp"):
            best = max(best, 3)
        elif py == cp:
            best = max(best, 2)
        elif py.startswith(("py3", "cp3")):
            best = max(best, 1)
    minor = max((int(p[3:]) for p in python_tag.split(".") if p[3:].isdigit()), default=0)
    return (best, minor)


def wheel_rank(filename: str, python_version: str) -> tuple[tuple[int, int], tuple[int, int, int]]:
    """Higher is better. ``filename`` is name-version(-build)?-py-abi-platform.whl."""
    parts = filename[: -len(".whl")].split("-")
    python_tag, abi_tag, platform_tag = parts[-3], parts[-2], parts[-1]
    cp = "cp" + python_version.replace(".", "")
    platform = max(_platform_rank(p) for p in platform_tag.split("."))
    return _interpreter_rank(python_tag, abi_tag, cp), platform
