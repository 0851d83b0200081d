"""The Python part of a lock: the model's wheels and the runtime's, one consistent set.

Both go into the same site directory, so they are resolved together (model requirements
plus the runtime's) and then split: the runtime's requirements are resolved again,
constrained to the joint pins, and whatever that yields is the ``runtime`` section; the
rest is ``python``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cog.rules.lockfile import Wheel
from cog.rules.pylock.config import IndexConfig
from cog.rules.pylock.cpu import cpu_versions
from cog.rules.pylock.resolve import Resolved, Target, run_uv_compile, to_wheels
from cog.rules.pylock.runtime import runtime_data

from cog.errors import LockError
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


def _prefer_cpu(
    joint: Resolved, requirements: list[str], compile_: _Compiler, progress: Progress
) -> Resolved:
    target = compile_.target
    for wheel in joint.wheels:
        if wheel.name not in runtime_data().cpu_variants or wheel.version.endswith("+cpu"):
            continue
        offered = cpu_versions(wheel.name, compile_.index, target.python_version, _arch(target))
        for version in offered[:3]:
            try:
                cpu = compile_(requirements, [f"{wheel.name}=={version}"])
            except LockError:
                continue  # that CPU build does not fit the other requirements
            progress.info(f"gpu is false: chose {wheel.name} {version}, a CPU build")
            return _prefer_cpu(cpu, requirements, compile_, progress)
    return joint


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
    runtime_reqs = list(runtime_data().requirements)
    joint_reqs = [*requirements, *runtime_reqs]
    compile_ = _Compiler(target, index, previous, upgrade)
    task = progress.task(f"Resolving Python packages for {target.describe()}")
    joint = compile_(joint_reqs)
    if not gpu:
        joint = _prefer_cpu(joint, joint_reqs, compile_, progress)
    pins = [f"{w.name}=={w.version}" for w in joint.wheels]
    runtime = compile_([*_options(requirements), *runtime_reqs], pins)
    task.finish(f"Resolved {len(joint.wheels)} Python packages for {target.describe()}")
    runtime_names = {w.name for w in runtime.wheels}
    return PythonSets(
        python=tuple(w for w in joint.wheels if w.name not in runtime_names),
        runtime=runtime.wheels,
        urls=joint.urls | runtime.urls,
    )
