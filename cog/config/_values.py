"""Typed reads of cog.yaml nodes, each failing with the file, line, key and an example."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from cog.config._yaml import YMap, YNode, YScalar, YSeq
from cog.errors import ConfigError


def describe(node: YNode) -> str:
    """What the user wrote, in words: "the string 'yes'", "a list", "nothing (null)"."""
    if isinstance(node, (YSeq, YMap)):
        return "a list" if isinstance(node, YSeq) else "a mapping"
    value = node.value
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the string '{value}'"
    kind = "boolean" if isinstance(value, bool) else "number"
    if isinstance(value, (int, float)):
        return f"the {kind} {node.raw}"
    return f"'{node.raw}'"


def indent_example(example: str) -> str:
    return "\n".join("  " + line for line in example.splitlines())


@dataclass(frozen=True)
class Reader:
    """Reads values out of one file's nodes; ``filename`` prefixes every error.

    ``notes`` collects what loaded but has no effect here (keys kept for compatibility).
    """

    filename: str
    notes: list[str] = field(default_factory=list)

    def error(self, line: int, message: str, hint: str) -> ConfigError:
        return ConfigError(f"{self.filename}:{line}: {message}", hint)

    def wrong_type(self, node: YNode, key: str, expected: str, example: str) -> ConfigError:
        return self.error(
            node.line,
            f"{key} must be {expected}, got {describe(node)}",
            f"Write it as {expected}, for example:\n{indent_example(example)}",
        )

    def mapping(self, node: YNode, key: str, example: str) -> YMap:
        if not isinstance(node, YMap):
            raise self.wrong_type(node, key, "a mapping", example)
        return node

    def string(self, node: YNode, key: str, example: str) -> str:
        # Numbers are accepted as their text (a tag "1", an image "2024"): the user wrote
        # digits where a string was expected, which is what they meant.
        if (
            isinstance(node, YScalar)
            and node.value is not None
            and not isinstance(node.value, bool)
            and node.raw.strip()
        ):
            return node.raw if not isinstance(node.value, str) else node.value
        raise self.wrong_type(node, key, "a non-empty string", example)

    def boolean(self, node: YNode, key: str, example: str) -> bool:
        if isinstance(node, YScalar) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, YScalar) and node.value is None:
            return False
        raise self.wrong_type(node, key, "true or false", example)

    def integer(self, node: YNode, key: str, example: str, minimum: int) -> int:
        value = node.value if isinstance(node, YScalar) else None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.wrong_type(node, key, f"a whole number (at least {minimum})", example)
        if value < minimum:
            raise self.error(
                node.line,
                f"{key} must be at least {minimum}, got {value}",
                f"Set it to {minimum} or more, for example:\n{indent_example(example)}",
            )
        return value

    def string_list(self, node: YNode, key: str, example: str) -> tuple[str, ...]:
        if isinstance(node, YScalar) and node.value is None:
            return ()
        if not isinstance(node, YSeq):
            raise self.wrong_type(node, key, "a list of strings", example)
        return tuple(
            self.string(item, f"{key}[{index}]", example) for index, item in enumerate(node.items)
        )

    def check_keys(self, node: YMap, allowed: tuple[str, ...], where: str | None) -> None:
        """Unknown keys fail, suggesting the closest allowed one."""
        for entry in node.entries:
            if entry.key in allowed:
                continue
            raise self.unknown_key(entry.key, entry.line, allowed, where)

    def unknown_key(
        self, key: str, line: int, allowed: tuple[str, ...], where: str | None
    ) -> ConfigError:
        full = f"{where}.{key}" if where else key
        scope = f"under {where}" if where else "at the top level"
        valid = ", ".join(sorted(allowed))
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            hint = f"Did you mean '{close[0]}'? Valid keys {scope}: {valid}."
        else:
            hint = f"Remove it. Valid keys {scope}: {valid}."
        return self.error(line, f"unknown key '{full}'", hint)
