"""The Debian part of a lock: read the target's suites, close over the roots, pin.

The closure is a pure function of the indexes' contents (their sha256 in the signed
InRelease files), the roots, the exclusions and the kept pins, so its result is cached
under that key: a warm re-lock reads three InRelease files and one small JSON file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from cog.progress import Progress
from cog.rules._files import atomic_write
from cog.rules.debian.closure import Universe, closure
from cog.rules.debian.index import (
    IndexedPackage,
    SuiteRelease,
    SuiteSource,
    load_packages,
    read_release,
)
from cog.rules.debian.targets import Suite, debian_data
from cog.rules.lockfile import DebPackage

_CLOSURE_FORMAT = 1


def read_releases(sources: Iterable[SuiteSource], arch: str) -> list[SuiteRelease]:
    return [read_release(source, arch) for source in sources]


def load_universe(
    releases: Iterable[SuiteRelease], arch: str, cache_dir: Path, progress: Progress
) -> Universe:
    packages: list[IndexedPackage] = []
    for release in releases:
        task = progress.task(f"Reading the Debian index {release.source.suite}")
        packages += load_packages(release, cache_dir)
        task.finish(f"Read the Debian index {release.source.suite}")
    return Universe(packages, arch)


def pin(p: IndexedPackage) -> DebPackage:
    """The lock entry for an index entry."""
    return DebPackage(
        name=p.name,
        version=p.version,
        architecture=p.architecture,
        suite=p.suite,
        filename=p.filename,
        sha256=p.sha256,
        size=p.size,
        source=p.source,
        installed_size=p.installed_size,
    )


def _closure_key(
    releases: list[SuiteRelease],
    arch: str,
    roots: list[str],
    exclude: frozenset[str],
    prefer: Mapping[str, str],
) -> str:
    key = {
        "format": _CLOSURE_FORMAT,
        "indexes": [[r.source.suite, *r.index_digests()] for r in releases],
        "arch": arch,
        "roots": sorted(set(roots)),
        "exclude": sorted(exclude),
        "prefer": sorted(prefer.items()),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def resolve_debian(
    sources: Iterable[SuiteSource],
    arch: str,
    suite: Suite,
    system_packages: Iterable[str],
    prefer: Mapping[str, str],
    *,
    cache_dir: Path,
    progress: Progress,
) -> tuple[DebPackage, ...]:
    """Baseline + the interpreter's packages + the user's system_packages, closed."""
    data = debian_data()
    wanted = list(system_packages)
    roots = [*data.baseline, *suite.interpreter, *wanted]
    exclude = data.exclude - set(wanted)
    releases = read_releases(sources, arch)
    cached = (
        cache_dir
        / "debian-closure"
        / f"{_closure_key(releases, arch, roots, exclude, prefer)}.json"
    )
    try:
        return tuple(DebPackage.model_validate(d) for d in json.loads(cached.read_bytes()))
    except (FileNotFoundError, json.JSONDecodeError):
        pass  # not resolved with these indexes and roots yet
    chosen = closure(
        load_universe(releases, arch, cache_dir, progress),
        roots,
        exclude=exclude,
        prefer=prefer,
        suite_label=f"Debian {suite.codename} ({', '.join(suite.main + suite.security)})",
    )
    pins = tuple(pin(p) for p in chosen)
    atomic_write(cached, json.dumps([p.model_dump() for p in pins]).encode())
    return pins
