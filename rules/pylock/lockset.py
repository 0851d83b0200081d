"""The Python part of a lock: the model's wheels and the runtime's, resolved apart.

They are installed apart (the model's in the interpreter's site-packages, the runtime's
in a directory only the supervisor puts on sys.path), so each set is resolved on its own:
whatever versions the model pins of pydantic, requests, pyyaml or click never conflict
with what the runtime needs, and the same name may be pinned at two versions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from cog.rules.lockfile import Wheel
from cog.rules.pylock import torch_index
from cog.rules.pylock.config import IndexConfig
from cog.rules.pylock.cpu import cpu_versions
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


def _joint(
    requirements: list[str],
    compile_: _Compiler,
    gpu: bool,
    progress: Progress,
    cuda: str | None = None,
) -> Resolved:
    variant = torch_index.variant_for(gpu=gpu, cuda=cuda)
    if variant is None:
        return compile_(requirements)
    index = torch_index.with_torch_index(compile_.index, variant)
    chooser = _Compiler(compile_.target, index, compile_.previous, compile_.upgrade)
    return torch_index.resolve_with_variant(
        requirements,
        chooser,
        index=index,
        target=compile_.target,
        variant=variant,
        names=runtime_data().cpu_variants,
        progress=progress,
    )


def resolve_python_sets(
    requirements: Sequence[str],
    target: Target,
    index: IndexConfig,
    *,
    gpu: bool,
    cuda: str | None = None,
    previous: Sequence[Wheel] = (),
    upgrade: bool | Sequence[str] = False,
    progress: Progress,
) -> PythonSets:
    """The model's wheels and the runtime's, each resolved alone (two uv processes at once).

    The model's index options (--extra-index-url, --find-links...) apply to both: a private
    mirror is where the runtime's wheels come from too.
    """
    data = runtime_data()
    model_reqs = [*requirements, *_missing(data.model_requirements, requirements)]
    compile_ = _Compiler(target, index, previous, upgrade)
    task = progress.task(f"Resolving Python packages for {target.describe()}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        runtime = pool.submit(compile_, [*_options(requirements), *data.requirements])
        model = _joint(model_reqs, compile_, gpu, progress, cuda)
        runtime_set = runtime.result()
    count = len(model.wheels) + len(runtime_set.wheels)
    task.finish(f"Resolved {count} Python packages for {target.describe()}")
    return PythonSets(
        python=model.wheels,
        runtime=runtime_set.wheels,
        urls={**runtime_set.urls, **model.urls},
    )


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _missing(extra: Sequence[str], requirements: Sequence[str]) -> list[str]:
    """The ``extra`` requirements whose project the model's requirements do not name."""

    def name(line: str) -> str | None:
        match = _NAME.match(line)
        return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None

    named = {name(line) for line in requirements if not line.startswith("-")}
    return [line for line in extra if name(line) not in named]
