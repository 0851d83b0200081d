"""The Python part of a lock: the model's wheels and the runtime's, one consistent set.

Both go into the same site directory, so they are resolved together (model requirements
plus the runtime's) and then split by name into the ``runtime`` and ``python`` sections.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cog.rules.lockfile import Wheel
from cog.rules.pylock.config import IndexConfig
from cog.rules.pylock.cpu import cpu_versions
from cog.rules.pylock.errors import ResolutionError
from cog.rules.pylock.resolve import Resolved, Target, run_uv_compile, to_wheels
from cog.rules.pylock.runtime import runtime_data

from cog.progress import Progress


@dataclass(frozen=True)
class PythonSets:
    python: tuple[Wheel, ...]
    runtime: tuple[Wheel, ...]
    urls: dict[str, str]  # sha256 -> URL uv reported


def _options(requirements: Sequence[str]) -> list[str]:
    return [line for line in requirements if line.startswith("-")]


def _arch(target: Target) -> str:
    return target.uv_platform.split("-", 1)[0]


class _Compiler:
    """uv pip compile with the lock's fixed settings; only requirements vary."""

    def __init__(
        self,
        target: Target,
        index: IndexConfig,
        previous: Sequence[Wheel],
        upgrade: bool | Sequence[str],
    ) -> None:
        self.target = target
        self.index = index
        self.previous = previous
        self.upgrade = upgrade

    def __call__(self, requirements: Sequence[str], constraints: Sequence[str] = ()) -> Resolved:
        packages = run_uv_compile(
            requirements,
            self.target,
            self.index,
            preferences=self.previous,
            upgrade=self.upgrade,
            extra_constraints=constraints,
        )
        return to_wheels(packages, self.target)


def cpu_constraints(index: IndexConfig, target: Target) -> list[str]:
    constraints = []
    for name in sorted(runtime_data().cpu_variants):
        offered = cpu_versions(name, index, target.python_version, _arch(target))
        if offered:
            constraints.append(f"{name}=={offered[0]}")
    return constraints


def _joint(requirements: list[str], compile_: _Compiler, gpu: bool, progress: Progress) -> Resolved:
    # A constraint on a package nobody requires is inert, so the CPU builds on offer can
    # be constrained up front: one resolution in the usual case.
    constraints = [] if gpu else cpu_constraints(compile_.index, compile_.target)
    if constraints:
        try:
            resolved = compile_(requirements, constraints)
        except ResolutionError:  # uv's own failures (missing, crashed, offline) propagate
            progress.info(f"the CPU builds on offer ({', '.join(constraints)}) do not fit")
        else:
            names = {c.split("==", 1)[0] for c in constraints}
            for wheel in resolved.wheels:
                if wheel.name in names:
                    progress.info(f"gpu is false: chose {wheel.name} {wheel.version}")
            return resolved
    return compile_(requirements)


def resolve_python_sets(
    requirements: Sequence[str],
    target: Target,
    index: IndexConfig,
    *,
    gpu: bool,
    previous: Sequence[Wheel] = (),
    upgrade: bool | Sequence[str] = False,
    progress: Progress,
) -> PythonSets:
    """The model's and the runtime's wheels, resolved together.

    The runtime's requirements are resolved alone at the same time (a second uv process)
    only to learn which names belong to the runtime; the pins all come from the joint
    resolution, so the two sections always agree.
    """
    runtime_reqs = list(runtime_data().requirements)
    joint_reqs = [*requirements, *runtime_reqs]
    compile_ = _Compiler(target, index, previous, upgrade)
    task = progress.task(f"Resolving Python packages for {target.describe()}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        runtime_alone = pool.submit(compile_, [*_options(requirements), *runtime_reqs])
        joint = _joint(joint_reqs, compile_, gpu, progress)
        runtime_names = {w.name for w in runtime_alone.result().wheels}
    task.finish(f"Resolved {len(joint.wheels)} Python packages for {target.describe()}")
    return PythonSets(
        python=tuple(w for w in joint.wheels if w.name not in runtime_names),
        runtime=tuple(w for w in joint.wheels if w.name in runtime_names),
        urls=joint.urls,
    )
