"""YAML parsing that keeps each node's line, so every cog.yaml error can point at it.

PyYAML's ``safe_load`` throws positions away; composing the node graph keeps them. Scalars
keep their raw text too: ``python_version: 3.10`` is the float 3.1 to YAML but the user
meant "3.10", and environment values should be what the user wrote.

Aliases are where a few hundred bytes of YAML become billions of nodes (the "billion laughs"):
an alias is composed as a second reference to its anchor's node, so the graph stays small, but
turning it into a tree visits every reference. A cog.yaml needs a handful of aliases at most,
so beyond ``MAX_ALIASES`` the file is refused while it is being composed, and the conversion
stops after ``MAX_NODES`` nodes or ``MAX_DEPTH`` levels (an alias to its own ancestor is an
endless tree): milliseconds, whatever the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cog.errors import ConfigError

MAX_ALIASES = 100  # alias uses (*name) in one file
MAX_NODES = 100_000  # nodes in the tree the aliases expand to
MAX_DEPTH = 100  # levels of nesting


@dataclass(frozen=True)
class YScalar:
    value: object  # as YAML 1.1 resolves it: str, int, float, bool, None, date
    raw: str  # the text as written, without quotes
    quoted: bool
    line: int


@dataclass(frozen=True)
class YSeq:
    items: tuple[YNode, ...]
    line: int


@dataclass(frozen=True)
class YEntry:
    key: str
    line: int  # the key's line
    value: YNode


@dataclass(frozen=True)
class YMap:
    entries: tuple[YEntry, ...]
    line: int

    def get(self, key: str) -> YEntry | None:
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None


YNode = Union[YScalar, YSeq, YMap]  # noqa: UP007 (evaluated in images: Python 3.8+)


class _TooManyAliases(Exception):  # noqa: N818
    def __init__(self, line: int) -> None:
        self.line = line


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts alias uses while composing and stops past MAX_ALIASES."""

    aliases = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _TooManyAliases(event.start_mark.line + 1)
        return super().compose_node(parent, index)


def parse_yaml(text: str, filename: str) -> YNode | None:
    """The document in ``text`` (None when empty); ConfigError with the line when invalid."""
    try:
        root = yaml.compose(text, Loader=_BoundedLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, filename) from None
    except _TooManyAliases as exc:
        raise ConfigError(
            f"{filename}:{exc.line}: more than {MAX_ALIASES} YAML aliases (*name): refused, "
            "as a file that expands to a huge document would be",
            "Write the values out, or use fewer anchors and aliases.",
        ) from None
    except RecursionError:
        raise _too_deep(filename, None) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            f"{filename}:{line}: invalid YAML: character #x{exc.character:04x} is not allowed "
            "in YAML text",
            f'Delete the control character on line {line} (or quote it as an escape, like "\\t").',
        ) from None
    if root is None:
        return None
    try:
        return _Converter(filename).convert(root, 0)
    except RecursionError:  # a merge key (<<: *name) inside its own anchor
        raise _too_deep(filename, None) from None


def _too_deep(filename: str, line: int | None) -> ConfigError:
    where = filename if line is None else f"{filename}:{line}"
    return ConfigError(
        f"{where}: YAML nested more than {MAX_DEPTH} levels deep (or an alias that contains "
        "itself)",
        "cog.yaml needs a few levels of nesting: flatten the structure, and check that no "
        "alias (*name) is used inside its own anchor (&name).",
    )


def _syntax_error(exc: yaml.MarkedYAMLError, filename: str) -> ConfigError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid syntax"
    if mark is None:
        return ConfigError(f"{filename}: invalid YAML: {problem}", "Fix the YAML syntax.")
    line = mark.line + 1
    what = problem
    if exc.context and exc.problem:
        what = f"{exc.context}, {exc.problem}"
        start = exc.context_mark
        if start is not None and start.line != mark.line:
            what += f" (it started on line {start.line + 1})"
    hint = f"Fix the YAML syntax at line {line}, column {mark.column + 1}."
    if "\\t" in problem:
        hint += " YAML does not allow tabs for indentation: use spaces."
    return ConfigError(f"{filename}:{line}: invalid YAML: {what}", hint)


class _Converter:
    """Turns composed nodes into YNodes, counting every node an alias makes it visit again."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.constructor = SafeConstructor()
        self.nodes = 0

    def convert(self, node: Node, depth: int) -> YNode:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ConfigError(
                f"{self.filename}:{line}: the YAML aliases expand to more than {MAX_NODES} "
                "values: refused",
                "Write the values out, or use fewer anchors and aliases.",
            )
        if depth > MAX_DEPTH:
            raise _too_deep(self.filename, line)
        if isinstance(node, ScalarNode):
            value = self.constructor.construct_object(node, deep=True)
            raw = str(node.value)
            return YScalar(value=value, raw=raw, quoted=node.style in ("'", '"'), line=line)
        if isinstance(node, SequenceNode):
            return YSeq(tuple(self.convert(item, depth + 1) for item in node.value), line)
        assert isinstance(node, MappingNode)
        return self._mapping(node, depth, line)

    def _mapping(self, node: MappingNode, depth: int, line: int) -> YMap:
        # Resolves YAML merge keys (<<: *anchor) in place, as safe_load would.
        self.constructor.flatten_mapping(node)
        entries: list[YEntry] = []
        seen: dict[str, int] = {}
        filename = self.filename
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else "<complex key>"
            key_line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{filename}:{key_line}: duplicate key '{key}' (first set on line {seen[key]})",
                    f"Delete one of the two '{key}' entries: YAML would silently keep the last.",
                )
            seen[key] = key_line
            entries.append(YEntry(key, key_line, self.convert(value_node, depth + 1)))
        return YMap(tuple(entries), line)
