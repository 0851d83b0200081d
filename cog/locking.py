"""`cog lock`: resolve cog.yaml into a fully pinned, location-independent cog.lock.

Re-locking unchanged inputs is a byte-for-byte no-op that touches no network: when the
checksum of the inputs (cog.yaml, the requirements, the weights file list, the pinned
third_party data and the lock format) matches the existing lock's, it is returned as is.
Otherwise everything is resolved again, keeping earlier pins that still fit unless
--upgrade asks otherwise.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from platform import machine as host_machine

import cog.rules.python_standalone as standalone
from cog.config import Config, load_config
from cog.errors import LockError
from cog.progress import Progress
from cog.rules import lockfile_text, sdist
from cog.rules._files import atomic_write, default_cache_root
from cog.rules.debian import targets as debian_targets
from cog.rules.debian.lockset import resolve_debian
from cog.rules.debian.targets import Suite
from cog.rules.lockfile import LOCK_VERSION, DebPackage, Interpreter, Lock, Target, WeightsFile
from cog.rules.oci import ARCHITECTURES
from cog.rules.pylock import runtime as runtime_set
from cog.rules.pylock.lockset import resolve_python_sets
from cog.rules.pylock.resolve import Target as PythonTarget
from cog.rules.pylock.resolve import uv_platform
from cog.rules.pylock.urls import remember_urls
from cog.rules.sandbox import STEP_DEBS, STEP_WHEELS
from cog.rules.sources import python_index_config, suite_sources

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


def _weights_files(config: Config) -> list[Path]:
    files: list[Path] = []
    for source in config.weights:
        root = config.project_dir / source.path
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file())
        else:
            raise LockError(
                f"{config.path}: weights path {source.path!r} does not exist",
                hint="Create it, or fix the weights entry in cog.yaml.",
            )
    return files


def _relative(config: Config, path: Path) -> str:
    return path.relative_to(config.project_dir).as_posix()


class _Checksum:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.feed("lock-format", str(LOCK_VERSION).encode())
        self.feed("third_party/debian.toml", debian_targets.data_bytes())
        self.feed("third_party/runtime.toml", runtime_set.data_bytes())
        self.feed("third_party/python_standalone.toml", standalone.table_bytes())

    def feed(self, label: str, data: bytes) -> None:
        self.digest.update(f"{label}\0{len(data)}\0".encode())
        self.digest.update(data)


def base_inputs_checksum(python_version: str, platform: str) -> str:
    """The inputs of this repository's own cog.lock: third_party's pins and the target."""
    checksum = _Checksum()
    checksum.feed("target", f"{python_version}\0{platform}".encode())
    return checksum.digest.hexdigest()


def inputs_checksum(project_dir: Path, config: Config) -> str:
    checksum = _Checksum()
    feed = checksum.feed
    feed("cog.yaml", config.path.read_bytes())
    if config.build.python_requirements is not None:
        requirements_file = project_dir / config.build.python_requirements
        if requirements_file.is_file():
            feed("requirements-file", requirements_file.read_bytes())
        # The logical lines cover files pulled in with -r as well.
        feed("requirements", "\n".join(config.requirements()).encode())
    if config.build.run:
        feed("build-run-tools", "\0".join([*STEP_DEBS, *STEP_WHEELS]).encode())
    for path in _weights_files(config):
        feed("weights", f"{_relative(config, path)}\0{path.stat().st_size}".encode())
    return checksum.digest.hexdigest()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _weights(config: Config, progress: Progress) -> tuple[WeightsFile, ...]:
    files = _weights_files(config)
    if not files:
        return ()
    task = progress.task("Hashing weights", total=sum(p.stat().st_size for p in files))
    result = []
    for path in files:
        size = path.stat().st_size
        result.append(WeightsFile(path=_relative(config, path), sha256=_hash_file(path), size=size))
        task.advance(size)
    task.finish(f"Hashed {len(files)} weights files")
    return tuple(sorted(result, key=lambda w: w.path))


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


@dataclass(frozen=True)
class _InterpreterPlan:
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


def _plan_interpreter(
    spec: LockSpec,
    arch: str,
    old: Lock | None,
    upgrade: bool | Sequence[str],
    resolve_debs: Callable[[Suite], tuple[DebPackage, ...]],
) -> _InterpreterPlan:
    data, table = debian_targets.debian_data(), standalone.standalone_table()
    choice = standalone.choose(spec.python_version, arch, data.python_suites, table)
    if choice.build is not None:
        build = choice.build
        if choice.patch is None:
            build = _kept_build(old, choice.minor, arch, upgrade) or build
        return _InterpreterPlan(replace(data.suite(choice.suite), interpreter=()), build)
    suite = data.suite(choice.suite)
    if choice.patch is None:
        return _InterpreterPlan(suite, None)
    debs = resolve_debs(suite)
    shipped = _debian_python(debs, choice.minor)
    if shipped == choice.patch:
        return _InterpreterPlan(suite, None, debs)
    if choice.fallback is not None:
        base = replace(data.suite(table.base_suite), interpreter=())
        return _InterpreterPlan(base, choice.fallback)
    raise standalone.unavailable_patch(
        spec.python_version,
        (suite.codename, shipped or "no python"),
        table.for_arch(arch, choice.minor),
    )


def _interpreter_pin(plan: _InterpreterPlan, debs: Sequence[DebPackage], minor: str) -> Interpreter:
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


def _image_debs(
    plan: _InterpreterPlan | None, resolve_debs: Callable[[Suite], tuple[DebPackage, ...]]
) -> tuple[DebPackage, ...]:
    if plan is None:
        return ()
    return plan.debs if plan.debs is not None else resolve_debs(plan.suite)


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

    plan = None
    glibc, codename = _BASE_IMAGE_GLIBC, "none"
    if spec.base_image is None:
        plan = _plan_interpreter(spec, arch, old, upgrade, resolve_debs)
        glibc, codename = plan.suite.glibc, plan.suite.codename
    old_wheels = [*old.python, *old.sdist, *old.runtime] if old else []
    keep = _kept(upgrade, [w.name for w in old_wheels])
    # uv runs in its own processes: resolve the wheels while the Debian indexes are read.
    python_target = PythonTarget(minor, uv_platform(machine, glibc))
    # An sdist's metadata is read by the image's own interpreter (in its rootfs for Debian's).
    debs_ready: Future[tuple[DebPackage, ...]] = Future()
    index = python_index_config(spec.project_dir)
    sandbox = None
    if plan is not None and host_machine() == machine:  # the target's interpreter runs here
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
        debian = sdist.settle(debs_ready, lambda: _image_debs(plan, resolve_debs))
        sets = python_sets.result()
    built = sdist.SdistLock((), (), {})
    if sets.sdists:  # and their compilers, from the image's suite
        suite_debs = None if plan is None else partial(resolve_debs, plan.suite)
        built = sdist.lock_sdists(
            sets.sdists,
            sets.urls,
            python_target,
            index,
            resolve_debs=suite_debs,
            standalone=plan is not None and plan.build is not None,
            options=[line for line in spec.requirements if line.startswith("-")],
            previous=[w for w in (old.build_python if old else ()) if _kept(upgrade, [w.name])],
        )
    lock = Lock(
        inputs_sha256=checksum,
        target=Target(
            arch=arch,  # type: ignore[arg-type]
            python_version=minor,
            gpu=spec.gpu,
            debian_suite=codename,
        ),
        interpreter=_interpreter_pin(plan, debian, minor) if plan is not None else None,
        debian=debian,
        python=sets.python,
        runtime=sets.runtime,
        weights=weights,
        sdist=built.sdists,
        build_python=built.build_python,
        build_debian=built.build_debian,
    )
    return lock, {**sets.urls, **built.urls}


def lock_project(
    project_dir: Path,
    *,
    config_file: str = DEFAULT_CONFIG,
    upgrade: bool | Sequence[str] = False,
    platform: str = "linux/amd64",
    progress: Progress,
) -> LockResult:
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
        weights=_weights(config, progress),
    )
    text = lockfile_text.dumps(lock)
    remember_urls(urls)
    if text == previous_text:
        return LockResult(lock, path, changed=False)
    atomic_write(path, text.encode("utf-8"))
    os.chmod(path, 0o644)  # mkstemp makes 0600; a lock is meant to be committed and shared
    return LockResult(lock, path, changed=True)


def check_lock(project_dir: Path, config_file: str = DEFAULT_CONFIG) -> Lock:
    """The project's lock, or LockError when it is missing or older than its inputs."""
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
