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
from typing import Any

from cog.progress import Progress
from cog.rules.lockfile import Sdist, Wheel
from cog.rules.pylock import torch_index
from cog.rules.pylock.cpu import cpu_versions
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.isolate import Sandbox
from cog.rules.pylock.resolve import Resolved, Target, run_uv_compile, to_wheels
from cog.rules.pylock.runtime_wheels import runtime_data
from cog.rules.pylock.uv_errors import ResolutionError


@dataclass(frozen=True)
class PythonSets:
    python: tuple[Wheel, ...]
    runtime: tuple[Wheel, ...]
    urls: dict[str, str]  # sha256 -> URL uv reported
    sdists: tuple[Sdist, ...] = ()  # the model's packages that no wheel fits


# uv's hint when --only-binary :all: ruled out a package that has an sdist.
_SDIST_ONLY = "Wheels are required for"


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
        *,
        allow_sdists: bool = False,
        sandbox: Sandbox | None = None,
    ) -> None:
        self.target = target
        self.index = index
        self.previous = previous
        self.upgrade = upgrade
        self.allow_sdists = allow_sdists
        self.sandbox = sandbox

    def __call__(self, requirements: Sequence[str], constraints: Sequence[str] = ()) -> Resolved:
        def compile_(allow_sdists: bool) -> list[dict[str, Any]]:
            return run_uv_compile(
                requirements,
                self.target,
                self.index,
                preferences=self.previous,
                upgrade=self.upgrade,
                extra_constraints=constraints,
                allow_sdists=allow_sdists,
                sandbox=self.sandbox,
            )

        try:
            packages = compile_(allow_sdists=False)
        except ResolutionError as e:
            # Wheels first, as before; only when some package has none for the target is
            # it resolved again with sdists allowed (pip's choice: the newest that fits).
            if not self.allow_sdists or _SDIST_ONLY not in e.message:
                raise
            packages = compile_(allow_sdists=True)
        return to_wheels(packages, self.target, allow_sdists=self.allow_sdists)


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
    chooser = _Compiler(
        compile_.target,
        index,
        compile_.previous,
        compile_.upgrade,
        allow_sdists=compile_.allow_sdists,
        sandbox=compile_.sandbox,
    )
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
    metadata_sandbox: Sandbox | None = None,
) -> PythonSets:
    """The model's wheels and the runtime's, each resolved alone (two uv processes at once).

    The model's index options (--extra-index-url, --find-links...) apply to both: a private
    mirror is where the runtime's wheels come from too. The model's may be sdists, whose
    metadata uv reads in ``metadata_sandbox`` (``isolate``).
    """
    data = runtime_data()
    model_reqs = [*requirements, *_missing(data.model_requirements, requirements)]
    compile_ = _Compiler(target, index, previous, upgrade)
    model_compile = _Compiler(
        target, index, previous, upgrade, allow_sdists=True, sandbox=metadata_sandbox
    )
    task = progress.task(f"Resolving Python packages for {target.describe()}")
    with ThreadPoolExecutor(max_workers=1) as pool:
        runtime = pool.submit(compile_, [*_options(requirements), *data.requirements])
        model = _joint(model_reqs, model_compile, gpu, progress, cuda)
        runtime_set = runtime.result()
    count = len(model.wheels) + len(runtime_set.wheels)
    task.finish(f"Resolved {count} Python packages for {target.describe()}")
    return PythonSets(
        python=model.wheels,
        runtime=runtime_set.wheels,
        urls={**runtime_set.urls, **model.urls},
        sdists=model.sdists,
    )


_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _missing(extra: Sequence[str], requirements: Sequence[str]) -> list[str]:
    """The ``extra`` requirements whose project the model's requirements do not name."""

    def name(line: str) -> str | None:
        match = _NAME.match(line)
        return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None

    named = {name(line) for line in requirements if not line.startswith("-")}
    return [line for line in extra if name(line) not in named]
