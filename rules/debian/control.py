"""Parsing deb822 control data: Packages stanzas, Release fields and dependency relations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Fields kept from a Packages stanza; the rest (Description, MD5sum, Tag...) is dropped
# so the parsed index stays small in the cache.
KEPT_FIELDS = (
    "Package",
    "Version",
    "Architecture",
    "Filename",
    "Size",
    "SHA256",
    "Source",
    "Installed-Size",
    "Depends",
    "Pre-Depends",
    "Provides",
    "Essential",
)


@dataclass(frozen=True)
class Relation:
    """One alternative of a dependency: ``name[:arch] [(op version)]``."""

    name: str
    op: str | None = None
    version: str | None = None
    arch_qualifier: str | None = None  # "any", "native", "amd64"...


Alternatives = tuple[Relation, ...]

_RELATION = re.compile(
    r"^\s*(?P<name>[a-z0-9][a-z0-9+.\-]*)(?::(?P<arch>[a-z0-9\-]+))?\s*"
    r"(?:\(\s*(?P<op><<|<=|=|>=|>>|<|>)\s*(?P<version>[^)\s]+)\s*\))?\s*"
    r"(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$"
)


def parse_relation(text: str) -> Relation:
    m = _RELATION.match(text)
    if m is None:
        raise ValueError(f"cannot parse dependency {text.strip()!r}")
    return Relation(m["name"], m["op"], m["version"], m["arch"])


def parse_depends(field: str | None) -> tuple[Alternatives, ...]:
    """``a (>= 1) | b, c`` → ((a>=1, b), (c,))."""
    if not field:
        return ()
    return tuple(
        tuple(parse_relation(alt) for alt in group.split("|"))
        for group in field.split(",")
        if group.strip()
    )


def iter_stanzas(text: str, keep: tuple[str, ...] | None = None) -> Iterator[dict[str, str]]:
    """Yield each paragraph as a field → value dict; continuation lines are joined.

    With ``keep`` only those fields are collected (a Packages file is 50 MB).
    """
    wanted = set(keep) if keep is not None else None
    stanza: dict[str, str] = {}
    last: str | None = None
    for line in text.split("\n"):
        if not line.strip():
            if stanza:
                yield stanza
            stanza, last = {}, None
            continue
        if line[0] in " \t":
            if last is not None:
                stanza[last] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"malformed control line {line[:80]!r}")
        if wanted is not None and key not in wanted:
            last = None
            continue
        stanza[key] = value.strip()
        last = key
    if stanza:
        yield stanza
