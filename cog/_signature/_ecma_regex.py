"""Compile an input's ``regex`` with the semantics the reference server applies to it.

The reference checks ``pattern`` with a JSON Schema validator, i.e. ECMA-262 regular
expressions searched anywhere in the string: ``\\d`` and ``\\w`` are ASCII only, ``\\s``
includes Unicode spaces, and ``$`` matches only at the very end (Python's ``$`` also
matches before a final newline, so ``"abc\\n"`` would wrongly pass ``^[a-z]+$``).
"""

from __future__ import annotations

import re

# ECMA-262 WhiteSpace and LineTerminator code points, as the inside of a character class.
_ECMA_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)


def _translate(pattern: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if escaped == "s":
                out.append(_ECMA_SPACE if in_class else f"[{_ECMA_SPACE}]")
            elif escaped == "S" and not in_class:
                out.append(f"[^{_ECMA_SPACE}]")
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a literal member in Python, not the end.
            opener = "[^" if pattern.startswith("[^", i) else "["
            if pattern.startswith("]", i + len(opener)):
                opener += "]"
            out.append(opener)
            i += len(opener)
            continue
        elif char == "$":
            char = r"\Z"
        elif pattern.startswith("(?<", i) and pattern[i + 3 : i + 4] not in ("=", "!"):
            char = "(?P<"  # ECMA named group
            i += 2
        out.append(char)
        i += 1
    return "".join(out)


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Raises re.error when the pattern is invalid in both dialects."""
    try:
        return re.compile(_translate(pattern), re.ASCII)
    except re.error:
        # A pattern our translation cannot express: Python's own reading of it is the
        # next best thing (the reference SDK compiles the same pattern with re as well).
        return re.compile(pattern)
