"""The Debian part of a lock: read the target's suites, close over the roots, pin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from cog.rules.debian.index import IndexedPackage, SuiteSource, fetch_suite
from cog.rules.debian.resolve import Universe, closure
from cog.rules.debian.targets import Suite, debian_data
from cog.rules.lockfile import DebPackage

from cog.progress import Progress


def load_universe(
    sources: Iterable[SuiteSource], arch: str, cache_dir: Path, progress: Progress
) -> Universe:
    packages: list[IndexedPackage] = []
    for source in sources:
        task = progress.task(f"Reading the Debian index {source.suite}")
        packages += fetch_suite(source, arch, cache_dir)
        task.finish(f"Read the Debian index {source.suite}")
    return Universe(packages, arch)


def _pin(p: IndexedPackage) -> DebPackage:
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


def resolve_debian(
    universe: Universe,
    suite: Suite,
    system_packages: Iterable[str],
    prefer: Mapping[str, str],
) -> tuple[DebPackage, ...]:
    """Baseline + the interpreter's packages + the user's system_packages, closed."""
    data = debian_data()
    roots = [*data.baseline, *suite.interpreter, *system_packages]
    chosen = closure(
        universe,
        roots,
        exclude=data.exclude - set(system_packages),
        prefer=prefer,
        suite_label=f"Debian {suite.codename} ({', '.join(suite.main + suite.security)})",
    )
    return tuple(_pin(p) for p in chosen)
