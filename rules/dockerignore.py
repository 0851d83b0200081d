"""Which project files go into the code layer: .dockerignore as Docker reads it.

Patterns use Go's filepath.Match syntax plus ``**``; ``!`` re-includes; the last matching
pattern wins; a pattern that matches a directory matches everything under it. ``.cog/``,
``.git/``, ``__pycache__`` and virtual environments are never included, whatever the file
says.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ALWAYS_EXCLUDED = frozenset({".cog", ".git", "__pycache__", ".hg", ".svn"})


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    negated: bool


def _translate(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end].replace("\\", "\\\\")
                if body.startswith(("^", "!")):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def parse(text: str) -> list[_Pattern]:
    patterns: list[_Pattern] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        if negated:
            line = line[1:].strip()
        line = os.path.normpath(line).lstrip("/")
        if line in ("", "."):
            continue
        patterns.append(_Pattern(_translate(line), negated))
    return patterns


def _excluded(rel: str, patterns: list[_Pattern]) -> bool:
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for p in patterns:
        if any(p.regex.match(prefix) for prefix in prefixes):
            excluded = not p.negated
    return excluded


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def project_files(project_dir: Path, skip: frozenset[str] = frozenset()) -> Iterator[str]:
    """Relative POSIX paths of the files (and symlinks) the code layer holds, sorted."""
    ignore = project_dir / ".dockerignore"
    patterns = parse(ignore.read_text()) if ignore.is_file() else []
    has_negation = any(p.negated for p in patterns)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(project_dir):
        rel_dir = os.path.relpath(dirpath, project_dir)
        rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
        keep_dirs = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            full = Path(dirpath) / d
            if d in ALWAYS_EXCLUDED or _is_venv(full):
                continue
            if full.is_symlink():
                filenames.append(d)
                continue
            # Descend into an excluded directory only if a later "!" pattern could re-include.
            if _excluded(rel, patterns) and not has_negation:
                continue
            keep_dirs.append(d)
        dirnames[:] = keep_dirs
        for f in filenames:
            rel = f"{rel_dir}/{f}" if rel_dir else f
            if rel in skip or _excluded(rel, patterns):
                continue
            found.append(rel)
    return iter(sorted(found))
