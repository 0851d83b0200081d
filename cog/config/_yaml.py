"""YAML parsing that keeps each node's line, so every cog.yaml error can point at it.

PyYAML's ``safe_load`` throws positions away; composing the node graph keeps them. Scalars
keep their raw text too: ``python_version: 3.10`` is the float 3.1 to YAML but the user
meant "3.10", and environment values should be what the user wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cog.errors import ConfigError


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


YNode = YScalar | YSeq | YMap


def parse_yaml(text: str, filename: str) -> YNode | None:
    """The document in ``text`` (None when empty); ConfigError with the line when invalid."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, filename) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            f"{filename}:{line}: invalid YAML: character #x{exc.character:04x} is not allowed "
            "in YAML text",
            f'Delete the control character on line {line} (or quote it as an escape, like "\\t").',
        ) from None
    if root is None:
        return None
    return _convert(root, SafeConstructor(), filename)


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


def _convert(node: Node, constructor: SafeConstructor, filename: str) -> YNode:
    line = node.start_mark.line + 1
    if isinstance(node, ScalarNode):
        value = constructor.construct_object(node, deep=True)
        return YScalar(value=value, raw=str(node.value), quoted=node.style in ("'", '"'), line=line)
    if isinstance(node, SequenceNode):
        return YSeq(tuple(_convert(item, constructor, filename) for item in node.value), line)
    assert isinstance(node, MappingNode)
    # Resolves YAML merge keys (<<: *anchor) in place, as safe_load would.
    constructor.flatten_mapping(node)
    entries: list[YEntry] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value) if isinstance(key_node, ScalarNode) else "<complex key>"
        key_line = key_node.start_mark.line + 1
        if key in seen:
            raise ConfigError(
                f"{filename}:{key_line}: duplicate key '{key}' (first set on line {seen[key]})",
                f"Delete one of the two '{key}' entries: YAML would silently keep the last.",
            )
        seen[key] = key_line
        entries.append(YEntry(key, key_line, _convert(value_node, constructor, filename)))
    return YMap(tuple(entries), line)
