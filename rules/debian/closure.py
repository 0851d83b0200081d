"""Dependency closure over Pre-Depends and Depends, the highest version across suites.

Rules: the first alternative that can be satisfied wins unless another is already in the
set; a virtual name resolves through Provides; cycles (libc6 ↔ libgcc-s1) are fine because
a package is visited once; ``:any``/``:native`` qualifiers name the same package on a
single-architecture image; a dependency on an excluded package (dpkg, debconf...) counts
as met, since only maintainer scripts use them.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable, Mapping

from cog.errors import LockError
from cog.rules.debian.control import Relation, parse_depends, parse_relation
from cog.rules.debian.deb_version import satisfies, version_key
from cog.rules.debian.index import IndexedPackage


def _provided_name(entry: str) -> str:
    return entry.split("(", 1)[0].strip().split(":", 1)[0]


def _provided_version(entry: str) -> str | None:
    return parse_relation(entry).version if "(" in entry else None


class Universe:
    """Every package of the target's suites, for one architecture plus ``all``."""

    def __init__(self, packages: Iterable[IndexedPackage], arch: str) -> None:
        self.by_name: dict[str, list[IndexedPackage]] = {}
        seen: set[tuple[str, str]] = set()
        for p in packages:
            if p.architecture not in (arch, "all") or (p.name, p.version) in seen:
                continue  # the first suite listing a version is where it is fetched from
            seen.add((p.name, p.version))
            self.by_name.setdefault(p.name, []).append(p)
        # virtual name -> (provider, the raw Provides entry)
        self._providers: dict[str, list[tuple[IndexedPackage, str]]] | None = None

    def providers(self, name: str) -> list[tuple[IndexedPackage, str | None]]:
        if self._providers is None:
            table: dict[str, list[tuple[IndexedPackage, str]]] = {}
            for candidates in self.by_name.values():
                for p in candidates:
                    if p.provides:
                        for alt in p.provides.split(","):
                            table.setdefault(_provided_name(alt), []).append((p, alt))
            # Versions are parsed only for the few virtual names actually asked about.
            self._providers = table
        return [(p, _provided_version(alt)) for p, alt in self._providers.get(name, [])]

    def close_names(self, name: str) -> list[str]:
        return difflib.get_close_matches(name, self.by_name.keys(), n=5, cutoff=0.7)


def _meets(version: str | None, rel: Relation) -> bool:
    if rel.op is None:
        return True
    return version is not None and satisfies(version, rel.op, rel.version or "")


def _describe(group: tuple[Relation, ...]) -> str:
    return " | ".join(r.name + (f" ({r.op} {r.version})" if r.op else "") for r in group)


def _best(candidates: list[IndexedPackage], preferred: str | None) -> IndexedPackage:
    for p in candidates:
        if p.version == preferred:
            return p
    return max(candidates, key=lambda p: version_key(p.version))


class _Closure:
    def __init__(
        self, universe: Universe, exclude: frozenset[str], prefer: Mapping[str, str]
    ) -> None:
        self.universe = universe
        self.exclude = exclude
        self.prefer = prefer
        self.selected: dict[str, IndexedPackage] = {}
        self.provided: dict[str, list[str | None]] = {}  # virtual name -> versions
        self.queue: deque[IndexedPackage] = deque()

    def add(self, p: IndexedPackage) -> None:
        self.selected[p.name] = p
        for alt in p.provides.split(",") if p.provides else ():
            rel = parse_relation(alt)
            self.provided.setdefault(rel.name, []).append(rel.version)
        self.queue.append(p)

    def met(self, rel: Relation) -> bool:
        if rel.name in self.exclude:
            return True
        if any(p.name in self.exclude for p, _ in self.universe.providers(rel.name)):
            return True  # e.g. `awk`, provided by the excluded mawk
        have = self.selected.get(rel.name)
        if have is not None and _meets(have.version, rel):
            return True
        return any(_meets(v, rel) for v in self.provided.get(rel.name, []))

    def choose(self, rel: Relation) -> IndexedPackage | None:
        real = [p for p in self.universe.by_name.get(rel.name, []) if _meets(p.version, rel)]
        if real:
            return _best(real, self.prefer.get(rel.name))
        providers = [p for p, v in self.universe.providers(rel.name) if _meets(v, rel)]
        if not providers:
            return None
        name = min(p.name for p in providers)
        return _best([p for p in providers if p.name == name], self.prefer.get(name))

    def visit(self, p: IndexedPackage) -> None:
        for group in parse_depends(p.pre_depends) + parse_depends(p.depends):
            if any(self.met(rel) for rel in group):
                continue
            for rel in group:
                chosen = self.choose(rel)
                if chosen is None:
                    continue
                if chosen.name in self.selected:
                    raise LockError(
                        f"Debian package {p.name} {p.version} needs {rel.name} "
                        f"{rel.op} {rel.version}, but {chosen.name} "
                        f"{self.selected[chosen.name].version} is already selected"
                    )
                self.add(chosen)
                break
            else:
                wanted = _describe(group)
                raise LockError(
                    f"Debian package {p.name} {p.version} ({p.suite}) depends on {wanted}, "
                    "which no configured suite provides"
                )


def closure(
    universe: Universe,
    roots: Iterable[str],
    *,
    exclude: frozenset[str] = frozenset(),
    prefer: Mapping[str, str] | None = None,
    suite_label: str = "the target suite",
) -> tuple[IndexedPackage, ...]:
    """The packages ``roots`` need, sorted by name. ``prefer`` keeps earlier pins."""
    state = _Closure(universe, exclude, prefer or {})
    for name in sorted(set(roots)):
        rel = parse_relation(name)
        if state.met(rel):
            continue
        chosen = state.choose(rel)
        if chosen is None:
            close = universe.close_names(rel.name)
            suggestion = f" Did you mean: {', '.join(close)}?" if close else ""
            raise LockError(
                f"system package {rel.name!r} is not in {suite_label}.{suggestion}",
                hint="Fix build.system_packages in cog.yaml (names as `apt-cache search` "
                "shows them for that Debian release).",
            )
        state.add(chosen)
    while state.queue:
        state.visit(state.queue.popleft())
    return tuple(sorted(state.selected.values(), key=lambda p: p.name))
