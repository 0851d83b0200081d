"""Where a lock's Python comes from: Debian's own interpreter in the suite its version maps
to, or a python-build-standalone build on top of a suite's packages (kept from an earlier
lock while the table still has it), and the ``[interpreter]`` pin that says which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cog.rules.python_standalone as standalone
from cog.rules.debian import targets as debian_targets
from cog.rules.debian.targets import Suite
from cog.rules.lockfile import DebPackage, Interpreter, Lock


@dataclass(frozen=True)
class InterpreterPlan:
    """The suite whose packages the image gets, and the pbs build on top (or Debian's own
    interpreter when ``build`` is None); ``debs`` when checking a patch pin resolved them."""

    suite: Suite
    build: standalone.StandaloneBuild | None
    debs: tuple[DebPackage, ...] | None = None


def _debian_python(debs: Sequence[DebPackage], minor: str) -> str | None:
    for deb in debs:
        if deb.name == f"python{minor}-minimal":
            return standalone.debian_upstream_version(deb.version)
    return None


def _kept_build(
    old: Lock | None, minor: str, arch: str, upgrade: bool | Sequence[str]
) -> standalone.StandaloneBuild | None:
    """The pbs build an earlier lock pinned for this minor, while the table still has it."""
    pinned = old.interpreter if old is not None and upgrade is not True else None
    if pinned is None or pinned.source != standalone.SOURCE_STANDALONE:
        return None
    builds = standalone.standalone_table().for_arch(arch, minor)
    return next((b for b in builds if b.sha256 == pinned.sha256), None)


def plan_interpreter(
    python_version: str,
    arch: str,
    old: Lock | None,
    upgrade: bool | Sequence[str],
    resolve_debs: Callable[[Suite], tuple[DebPackage, ...]],
) -> InterpreterPlan:
    data, table = debian_targets.debian_data(), standalone.standalone_table()
    choice = standalone.choose(python_version, arch, data.python_suites, table)
    if choice.build is not None:
        build = choice.build
        if choice.patch is None:
            build = _kept_build(old, choice.minor, arch, upgrade) or build
        return InterpreterPlan(replace(data.suite(choice.suite), interpreter=()), build)
    suite = data.suite(choice.suite)
    if choice.patch is None:
        return InterpreterPlan(suite, None)
    debs = resolve_debs(suite)
    shipped = _debian_python(debs, choice.minor)
    if shipped == choice.patch:
        return InterpreterPlan(suite, None, debs)
    if choice.fallback is not None:
        base = replace(data.suite(table.base_suite), interpreter=())
        return InterpreterPlan(base, choice.fallback)
    raise standalone.unavailable_patch(
        python_version,
        (suite.codename, shipped or "no python"),
        table.for_arch(arch, choice.minor),
    )


def interpreter_pin(plan: InterpreterPlan, debs: Sequence[DebPackage], minor: str) -> Interpreter:
    if plan.build is None:
        version = _debian_python(debs, minor) or minor
        return Interpreter(source="debian", version=version)
    build = plan.build
    return Interpreter(
        source="python-build-standalone",
        version=build.version,
        release=build.release,
        filename=build.file,
        sha256=build.sha256,
    )


def image_debs(
    plan: InterpreterPlan | None, resolve_debs: Callable[[Suite], tuple[DebPackage, ...]]
) -> tuple[DebPackage, ...]:
    if plan is None:
        return ()
    return plan.debs if plan.debs is not None else resolve_debs(plan.suite)
