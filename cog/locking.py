"""`cog lock`: resolve cog.yaml into a fully pinned, location-independent cog.lock.

Re-locking unchanged inputs is a byte-for-byte no-op that touches no network: when the
checksum of the inputs (cog.yaml, the requirements, the weights file list, the pinned
third_party data and the lock format) matches the existing lock's, it is returned as is.
Otherwise everything is resolved again, keeping earlier pins that still fit unless
--upgrade asks otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from platform import machine as host_machine
from typing import Protocol

import cog.rules.python_standalone as standalone
from cog._locking_inputs import base_inputs_checksum, hashed_weights, inputs_checksum
from cog._locking_interpreter import InterpreterPlan, image_debs, interpreter_pin, plan_interpreter
from cog.config import Config, load_config
from cog.errors import LockError
from cog.progress import Progress
from cog.rules import lockfile_text, sdist
from cog.rules._files import atomic_write, default_cache_root
from cog.rules.debian.pinning import resolve_debian
from cog.rules.debian.targets import Suite
from cog.rules.lockfile import DebPackage, Interpreter, Lock, Target, WeightsFile, Wheel
from cog.rules.oci import ARCHITECTURES
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.lockset import PythonSets, resolve_python_sets
from cog.rules.pylock.resolve import Target as PythonTarget
from cog.rules.pylock.resolve import uv_platform
from cog.rules.pylock.urls import remember_urls
from cog.rules.sandbox import STEP_DEBS, STEP_WHEELS
from cog.rules.sources import python_index_config, suite_sources

__all__ = [
    "DEFAULT_CONFIG",
    "LockResult",
    "LockSpec",
    "base_inputs_checksum",
    "check_lock",
    "inputs_checksum",
    "lock_path",
    "lock_project",
    "resolve_lock",
]

DEFAULT_CONFIG = "cog.yaml"
_ARCHES = {f"linux/{a.oci}": (a.oci, a.machine) for a in ARCHITECTURES.values()}
# With build.base_image the OS is not ours to lock; wheels then target this glibc floor.
_BASE_IMAGE_GLIBC = "2.28"


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    path: Path
    changed: bool


def lock_path(project_dir: Path, config_file: str = DEFAULT_CONFIG) -> Path:
    """cog.yaml → cog.lock; another config name (cog.gpu.yaml) → cog.gpu.lock."""
    name = Path(config_file).name
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name.rsplit(".", 1)[0]
    return project_dir / Path(config_file).parent / f"{stem}.lock"


def _lock_command(config_file: str) -> str:
    return "cog lock" if config_file == DEFAULT_CONFIG else f"cog lock -f {config_file}"


def _read_previous(path: Path, progress: Progress) -> tuple[Lock | None, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    try:
        return lockfile_text.loads(text, str(path)), text
    except LockError as e:
        progress.info(f"ignoring the unreadable {path.name}: {e.message}")
        return None, text


def _kept(upgrade: bool | Sequence[str], names: Sequence[str]) -> set[str]:
    if upgrade is True:
        return set()
    unpinned = {n.lower() for n in upgrade} if upgrade else set()
    return {n for n in names if n.lower() not in unpinned}


def _parse_platform(platform: str) -> tuple[str, str]:
    if platform not in _ARCHES:
        raise LockError(
            f"unsupported platform {platform!r}",
            hint=f"Use one of: {', '.join(sorted(_ARCHES))}.",
        )
    return _ARCHES[platform]


@dataclass(frozen=True)
class LockSpec:
    """What to resolve, from cog.yaml or (for this repository's own lock) third_party."""

    python_version: str
    requirements: tuple[str, ...] = ()
    system_packages: tuple[str, ...] = ()
    gpu: bool = False
    base_image: str | None = None
    project_dir: Path | None = None  # where a project-level uv.toml may live
    cuda: str | None = None  # build.cuda: which CUDA build of torch & co.


def _spec(config: Config) -> LockSpec:
    build = config.build
    requirements, system_packages = config.requirements(), build.system_packages
    if build.run:
        # What the reference's images give a RUN line: sh, coreutils, curl, pip, ...
        requirements = (*requirements, *STEP_WHEELS)
        system_packages = (*system_packages, *STEP_DEBS)
    return LockSpec(
        python_version=build.python_version,
        requirements=requirements,
        system_packages=system_packages,
        gpu=build.gpu,
        base_image=build.base_image,
        project_dir=config.project_dir,
        cuda=build.cuda,
    )


class _DebResolver(Protocol):
    def __call__(self, suite: Suite, extra: Sequence[str] = ()) -> tuple[DebPackage, ...]: ...


def _deb_resolver(
    spec: LockSpec,
    arch: str,
    old: Lock | None,
    upgrade: bool | Sequence[str],
    progress: Progress,
) -> _DebResolver:
    """Resolves the spec's system packages (and ``extra``) in a suite, keeping old pins."""
    # The compilers' pins are kept too; where a name is in both, the image's version.
    old_debs = {p.name: p.version for p in (*old.build_debian, *old.debian)} if old else {}
    kept_debs = _kept(upgrade, list(old_debs))

    def resolve_debs(suite: Suite, extra: Sequence[str] = ()) -> tuple[DebPackage, ...]:
        return resolve_debian(
            suite_sources(suite),
            arch,
            suite,
            (*spec.system_packages, *extra),
            {n: old_debs[n] for n in kept_debs},
            cache_dir=default_cache_root(),
            progress=progress,
        )

    return resolve_debs


def _lock_sdists(
    spec: LockSpec,
    sets: PythonSets,
    python_target: PythonTarget,
    index: IndexConfig,
    *,
    plan: InterpreterPlan | None,
    resolve_debs: _DebResolver,
    previous: list[Wheel],
) -> sdist.SdistLock:
    """The sdists' pins, the wheels their backends need, and (from the image's suite)
    the compilers' debs."""
    suite_debs = None if plan is None else partial(resolve_debs, plan.suite)
    return sdist.lock_sdists(
        sets.sdists,
        sets.urls,
        python_target,
        index,
        resolve_debs=suite_debs,
        standalone=plan is not None and plan.build is not None,
        options=[line for line in spec.requirements if line.startswith("-")],
        previous=previous,
    )


def _lock_of(
    *,
    checksum: str,
    target: Target,
    interpreter: Interpreter | None,
    debian: tuple[DebPackage, ...],
    sets: PythonSets,
    built: sdist.SdistLock,
    weights: tuple[WeightsFile, ...],
) -> Lock:
    return Lock(
        inputs_sha256=checksum,
        target=target,
        interpreter=interpreter,
        debian=debian,
        python=sets.python,
        runtime=sets.runtime,
        weights=weights,
        sdist=built.sdists,
        build_python=built.build_python,
        build_debian=built.build_debian,
    )


def _resolve_sets(
    spec: LockSpec,
    python_target: PythonTarget,
    index: IndexConfig,
    *,
    plan: InterpreterPlan | None,
    resolve_debs: _DebResolver,
    host_runs_target: bool,
    old: Lock | None,
    upgrade: bool | Sequence[str],
    progress: Progress,
) -> tuple[tuple[DebPackage, ...], PythonSets]:
    """The image's debs and the Python sets, resolved side by side (uv in its own
    processes while the Debian indexes are read)."""
    old_wheels = [*old.python, *old.sdist, *old.runtime] if old else []
    keep = _kept(upgrade, [w.name for w in old_wheels])
    # An sdist's metadata is read by the image's own interpreter (in its rootfs for Debian's).
    debs_ready: Future[tuple[DebPackage, ...]] = Future()
    minor = python_target.python_version
    sandbox = None
    if plan is not None and host_runs_target:  # the target's interpreter runs here
        sandbox = sdist.metadata_sandbox(plan.build, debs_ready, minor, index, spec.project_dir)
    with ThreadPoolExecutor(max_workers=1) as pool:
        python_sets = pool.submit(
            resolve_python_sets,
            spec.requirements,
            python_target,
            index,
            gpu=spec.gpu,
            cuda=spec.cuda,
            previous=[w for w in old_wheels if w.name in keep],
            upgrade=upgrade,
            progress=progress,
            metadata_sandbox=sandbox,
        )
        debian = sdist.settle(debs_ready, lambda: image_debs(plan, resolve_debs))
        sets = python_sets.result()
    return debian, sets


def resolve_lock(
    spec: LockSpec,
    *,
    checksum: str,
    platform: str,
    previous: Lock | None,
    upgrade: bool | Sequence[str],
    progress: Progress,
    weights: tuple[WeightsFile, ...] = (),
) -> tuple[Lock, dict[str, str]]:
    """A fresh lock for ``spec``, and the URL uv reported for each wheel (by sha256)."""
    arch, machine = _parse_platform(platform)
    old = previous if previous is not None and previous.target.arch == arch else None
    minor = standalone.minor_of(spec.python_version.strip())
    resolve_debs = _deb_resolver(spec, arch, old, upgrade, progress)
    plan = None
    glibc, codename = _BASE_IMAGE_GLIBC, "none"
    if spec.base_image is None:
        plan = plan_interpreter(spec.python_version, arch, old, upgrade, resolve_debs)
        glibc, codename = plan.suite.glibc, plan.suite.codename
    # uv runs in its own processes: resolve the wheels while the Debian indexes are read.
    python_target = PythonTarget(minor, uv_platform(machine, glibc))
    index = python_index_config(spec.project_dir)
    debian, sets = _resolve_sets(
        spec,
        python_target,
        index,
        plan=plan,
        resolve_debs=resolve_debs,
        host_runs_target=host_machine() == machine,
        old=old,
        upgrade=upgrade,
        progress=progress,
    )
    built = sdist.SdistLock((), (), {})
    if sets.sdists:  # and their compilers
        previous_build = [w for w in (old.build_python if old else ()) if _kept(upgrade, [w.name])]
        built = _lock_sdists(
            spec,
            sets,
            python_target,
            index,
            plan=plan,
            resolve_debs=resolve_debs,
            previous=previous_build,
        )
    lock = _lock_of(
        checksum=checksum,
        target=Target(
            arch=arch,  # type: ignore[arg-type]
            python_version=minor,
            gpu=spec.gpu,
            debian_suite=codename,
        ),
        interpreter=interpreter_pin(plan, debian, minor) if plan is not None else None,
        debian=debian,
        sets=sets,
        built=built,
        weights=weights,
    )
    return lock, {**sets.urls, **built.urls}


def lock_project(
    project_dir: Path,
    *,
    config_file: str = DEFAULT_CONFIG,
    upgrade: bool | Sequence[str] = False,
    platform: str = "linux/amd64",
    progress: Progress,
    config: Config | None = None,
) -> LockResult:
    """Write the project's cog.lock (``config``: its cog.yaml, when already read)."""
    if config is None:
        config = load_config(project_dir / config_file)
    path = lock_path(project_dir, config_file)
    checksum = inputs_checksum(project_dir, config)
    previous, previous_text = _read_previous(path, progress)
    arch, _ = _parse_platform(platform)
    if (
        not upgrade
        and previous is not None
        and previous.inputs_sha256 == checksum
        and previous.target.arch == arch
    ):
        return LockResult(previous, path, changed=False)
    if isinstance(upgrade, str):
        upgrade = [upgrade]
    lock, urls = resolve_lock(
        _spec(config),
        checksum=checksum,
        platform=platform,
        previous=previous,
        upgrade=upgrade,
        progress=progress,
        weights=hashed_weights(config, progress),
    )
    text = lockfile_text.dumps(lock)
    remember_urls(urls)
    if text == previous_text:
        return LockResult(lock, path, changed=False)
    atomic_write(path, text.encode("utf-8"))
    os.chmod(path, 0o644)  # mkstemp makes 0600; a lock is meant to be committed and shared
    return LockResult(lock, path, changed=True)


def check_lock(
    project_dir: Path, config_file: str = DEFAULT_CONFIG, *, config: Config | None = None
) -> Lock:
    """The project's lock, or LockError when it is missing or older than its inputs
    (``config``: its cog.yaml, when the caller has read it already)."""
    if config is None:
        config = load_config(project_dir / config_file)
    path = lock_path(project_dir, config_file)
    command = _lock_command(config_file)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockError(
            f"{path} is missing", hint=f"Run `{command}` to create it, and commit it."
        ) from None
    lock = lockfile_text.loads(text, str(path))
    if lock.inputs_sha256 != inputs_checksum(project_dir, config):
        raise LockError(
            f"{path} is stale: {config.path.name} or a file it names changed since it was made",
            hint=f"Run `{command}` to update it.",
        )
    return lock
