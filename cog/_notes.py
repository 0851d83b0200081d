"""Notes for the person at the terminal: printed once per process, and only by the CLI.

The runtime inside an image loads cog.yaml too; what it would say was already said by the
`cog` command that built or started it, so only the CLI turns printing on.
"""

from __future__ import annotations

import sys

_state = {"enabled": False}
_printed: set[str] = set()


def enable() -> None:
    _state["enabled"] = True


def print_once(text: str, key: str) -> None:
    """Print ``text`` unless a note with the same ``key`` was printed (one file may be named
    relative once and absolute the next time)."""
    if _state["enabled"] and key not in _printed:
        _printed.add(key)
        print(f"note: {text}", file=sys.stderr)
