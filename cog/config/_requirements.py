"""Reading a pip requirements file into the lines a resolver needs."""

from __future__ import annotations

import re
from pathlib import Path

from cog.errors import ConfigError

# pip treats " #" (whitespace then hash) as the start of a comment; a bare "#" inside a
# URL fragment (git+https://...#egg=x) is not one.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement)(\s+|=)(?P<path>.+)$")


def read_requirements(path: Path, _seen: frozenset[Path] = frozenset()) -> tuple[str, ...]:
    """The requirement and option lines of ``path``, with ``-r`` includes inlined."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: requirements file not found",
            "Create it with one requirement per line (e.g. torch==2.6.0), or fix the path "
            "in cog.yaml.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{path}: cannot read requirements file: {exc}", "Check the file's permissions."
        ) from None
    lines: list[str] = []
    for line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include is None:
            lines.append(line)
            continue
        included = (path.parent / include.group("path").strip()).resolve()
        if included in _seen:
            raise ConfigError(
                f"{path}: '{line}' makes a cycle of -r includes ({included.name} is already "
                "being read)",
                "Remove the circular -r include.",
            )
        lines.extend(read_requirements(included, _seen | {path.resolve()}))
    return tuple(lines)


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", "", text)
    out = []
    for raw in joined.splitlines():
        line = _COMMENT.sub("", raw).strip()
        if line:
            out.append(line)
    return out
