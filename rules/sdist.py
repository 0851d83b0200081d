"""Locking packages that come as source distributions only.

An sdist is pinned by sha256 like a wheel. What its build needs is pinned with it: the
build backend's requirements (its pyproject.toml ``[build-system] requires``, or
setuptools and wheel when it has none), resolved as wheels for the target in a second
resolve, and the compilers: the Debian closure of the image's packages together with
build-essential (and the interpreter's headers), from the same suite. Those are unpacked
only into the rootfs the wheel is built in (``sdist_build``), never into the image.
"""

from __future__ import annotations

import tarfile
import threading
import tomllib
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from cog.errors import LockError
from cog.rules._files import default_cache_root
from cog.rules.cache import Cache
from cog.rules.fetch import fetch
from cog.rules.layers import layer_key
from cog.rules.lockfile import DebPackage, Sdist, Wheel
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.isolate import Sandbox, in_target, isolated
from cog.rules.pylock.resolve import Target, run_uv_compile, to_wheels
from cog.rules.pylock.simple import normalize
from cog.rules.python_standalone import StandaloneBuild, archive_urls
from cog.rules.sdist_rootfs import debian_rootfs
from cog.rules.sources import deb_urls
from cog.rules.tar_extract import extract_all

# PEP 517's fallback for a source tree without [build-system] (what pip assumes).
DEFAULT_REQUIRES = ("setuptools>=40.8.0", "wheel")
DEFAULT_BACKEND = "setuptools.build_meta:__legacy__"
# What a compiler needs in the build rootfs, besides the image's own packages.
COMPILERS = ("build-essential",)


@dataclass(frozen=True)
class BuildSystem:
    requires: tuple[str, ...]
    backend: str  # "module:object" as PEP 517 writes it
    backend_path: tuple[str, ...] = ()  # in-tree backends, relative to the source root


def parse_build_system(pyproject: str | None, origin: str) -> BuildSystem:
    """The ``[build-system]`` of a pyproject.toml's text (None: the file is absent)."""
    if pyproject is None:
        return BuildSystem(DEFAULT_REQUIRES, DEFAULT_BACKEND)
    try:
        table = tomllib.loads(pyproject).get("build-system")
    except tomllib.TOMLDecodeError as e:
        raise LockError(
            f"{origin}: pyproject.toml is not valid TOML: {e}",
            hint="Pin another version of this package, or one that ships a wheel.",
        ) from e
    if not isinstance(table, dict):
        return BuildSystem(DEFAULT_REQUIRES, DEFAULT_BACKEND)
    requires = table.get("requires", list(DEFAULT_REQUIRES))
    backend = table.get("build-backend", DEFAULT_BACKEND)
    backend_path = table.get("backend-path", [])
    if (
        not isinstance(requires, list)
        or not all(isinstance(r, str) for r in requires)
        or not isinstance(backend, str)
        or not isinstance(backend_path, list)
        or not all(isinstance(p, str) for p in backend_path)
    ):
        raise LockError(
            f"{origin}: pyproject.toml's [build-system] is malformed "
            "(requires and backend-path must be lists of strings, build-backend a string)",
            hint="Pin another version of this package, or one that ships a wheel.",
        )
    return BuildSystem(tuple(requires), backend, tuple(backend_path))


def _top_level(names: Sequence[str], origin: str) -> str:
    tops = {PurePosixPath(n).parts[0] for n in names if n and not n.startswith("/")}
    if len(tops) != 1:
        raise LockError(
            f"{origin}: an sdist holds one top-level folder, this one has {len(tops)}",
            hint="Pin another version of this package, or one that ships a wheel.",
        )
    return tops.pop()


def sdist_files(archive: Path, origin: str) -> tuple[str, dict[str, bytes]]:
    """The sdist's top-level folder and its pyproject.toml / PKG-INFO bytes (when present)."""
    wanted = ("pyproject.toml", "PKG-INFO")
    found: dict[str, bytes] = {}
    if origin.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            top = _top_level(zf.namelist(), origin)
            for name in wanted:
                if f"{top}/{name}" in zf.namelist():
                    found[name] = zf.read(f"{top}/{name}")
        return top, found
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            top = _top_level([m.name for m in members], origin)
            for member in members:
                rel = member.name[len(top) + 1 :]
                if member.isfile() and rel in wanted:
                    handle = tar.extractfile(member)
                    found[rel] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as e:
        raise LockError(
            f"{origin} is not a readable sdist: {e}",
            hint="Pin another version of this package, or one that ships a wheel.",
        ) from e
    return top, found


def read_build_system(archive: Path, origin: str) -> BuildSystem:
    _, found = sdist_files(archive, origin)
    text = found.get("pyproject.toml")
    return parse_build_system(text.decode("utf-8", "replace") if text else None, origin)


@dataclass(frozen=True)
class SdistLock:
    sdists: tuple[Sdist, ...]  # with build_requires filled in
    build_python: tuple[Wheel, ...]
    urls: dict[str, str]
    build_debian: tuple[DebPackage, ...] = ()


Fetcher = Callable[[Sdist], Path]


def lock_build_requirements(
    sdists: Sequence[Sdist],
    target: Target,
    index: IndexConfig,
    fetch: Fetcher,
    *,
    options: Sequence[str] = (),
    previous: Sequence[Wheel] = (),
) -> SdistLock:
    """Each sdist's build requirements, resolved as wheels for the target (one resolve per
    distinct set), pinned into the sdist's ``build_requires``."""
    by_requires: dict[tuple[str, ...], list[Sdist]] = {}
    for sdist in sdists:
        system = read_build_system(fetch(sdist), sdist.filename)
        by_requires.setdefault(tuple(sorted(system.requires)), []).append(sdist)
    pinned: list[Sdist] = []
    wheels: dict[str, Wheel] = {}
    urls: dict[str, str] = {}
    for requires, group in sorted(by_requires.items()):
        try:
            packages = (
                run_uv_compile([*options, *requires], target, index, preferences=previous)
                if requires
                else []
            )
        except LockError as e:
            names = ", ".join(f"{s.name} {s.version}" for s in group)
            raise LockError(
                f"the build requirements of {names} ({', '.join(requires)}) cannot be "
                f"locked as wheels:\n{e.message}",
                hint="Build requirements are installed from wheels only; make them "
                "available on the configured indexes, or pin a version that ships a wheel.",
            ) from e
        resolved = to_wheels(packages, target)
        for wheel in resolved.wheels:
            wheels[wheel.sha256] = wheel
        urls |= resolved.urls
        pins = tuple(sorted(f"{normalize(w.name)}=={w.version}" for w in resolved.wheels))
        pinned += [s.model_copy(update={"build_requires": pins}) for s in group]
    return SdistLock(
        tuple(sorted(pinned, key=lambda s: s.name)),
        tuple(sorted(wheels.values(), key=lambda w: (w.name, w.version, w.filename))),
        urls,
    )


def compiler_roots(python_minor: str, *, standalone: bool) -> tuple[str, ...]:
    """The Debian packages a build adds to the image's: python-build-standalone ships its
    own headers; Debian's interpreter has them in python3.X-dev."""
    return COMPILERS if standalone else (*COMPILERS, f"python{python_minor}-dev")


def lock_sdists(
    sdists: Sequence[Sdist],
    urls: dict[str, str],
    target: Target,
    index: IndexConfig,
    *,
    resolve_debs: Callable[[Sequence[str]], tuple[DebPackage, ...]] | None,
    standalone: bool,
    options: Sequence[str] = (),
    previous: Sequence[Wheel] = (),
) -> SdistLock:
    """Everything the builds of ``sdists`` need, pinned: their build requirements as wheels
    and, through ``resolve_debs`` (extra roots -> the suite's closure), the compilers.
    ``options`` are the requirements' own index lines (--extra-index-url ...); the
    ``previous`` build wheels are kept where they still fit, as the model's are."""
    if resolve_debs is None:
        names = ", ".join(s.name for s in sdists)
        raise LockError(
            f"{names} ships no wheel for {target.describe()}, and with build.base_image "
            "there is no Debian suite to take compilers from",
            hint="Pin versions that ship wheels, or build them in a build.run step.",
        )
    cache = Cache(default_cache_root())

    def fetch_sdist(sdist: Sdist) -> Path:
        return fetch([urls[sdist.sha256]], sdist.sha256, sdist.size, cache)

    locked = lock_build_requirements(
        sdists, target, index, fetch_sdist, options=options, previous=previous
    )
    debs = resolve_debs(compiler_roots(target.python_version, standalone=standalone))
    return replace(locked, build_debian=debs)


def _local_paths(index: IndexConfig) -> list[str]:
    """The folders of file: indexes, find-links and constraint files uv must read."""
    found = []
    for location in (*index.indexes(), *index.find_links, *index.constraints):
        path = location.removeprefix("file://") if location.startswith("file:") else location
        if path.startswith("/"):
            found.append(path.rstrip("/"))
    return found


def target_sandbox(
    debs: Future[tuple[DebPackage, ...]], python_version: str, index: IndexConfig
) -> Sandbox:
    """Where uv reads sdists' metadata with the target's own interpreter: a rootfs of the
    image's debs (``debs``, resolved meanwhile by the caller), made on first use."""
    made: list[Sandbox] = []
    guard = threading.Lock()

    def wrap(argv: list[str], work: Path) -> list[str]:
        with guard:
            if not made:
                cache = Cache(default_cache_root())

                def fetch_debs(items: Sequence[DebPackage]) -> list[Path]:
                    return [fetch(deb_urls(d), d.sha256, d.size, cache) for d in items]

                rootfs = debian_rootfs(debs.result(), python_version, cache, fetch_debs)
                python = f"/usr/bin/python{python_version}"
                made.append(in_target(rootfs, python, _local_paths(index)))
        return made[0](argv, work)

    return wrap


def standalone_sandbox(
    build: StandaloneBuild, python_version: str, project_dir: Path | None
) -> Sandbox:
    """Where uv reads sdists' metadata with the target's python-build-standalone build
    (relocatable: it runs from where it is unpacked), fetched and unpacked on first use."""
    made: list[str] = []
    guard = threading.Lock()

    def wrap(argv: list[str], work: Path) -> list[str]:
        with guard:
            if not made:
                cache = Cache(default_cache_root())
                key = layer_key("python-standalone-unpacked", sha256=build.sha256)
                root = cache.rootfs(key)
                if root is None:
                    urls = archive_urls(build, project_dir=project_dir)
                    archive = fetch(urls, build.sha256, None, cache)
                    staged = cache.temp_dir("python-standalone")
                    with tarfile.open(archive) as tar:
                        extract_all(tar, staged, "data")
                    root = cache.put_rootfs(key, staged)
                made.append(str(root / "python" / "bin" / f"python{python_version}"))
        return isolated(argv, work, made[0])

    return wrap


def metadata_sandbox(
    build: StandaloneBuild | None,
    debs: Future[tuple[DebPackage, ...]],
    python_version: str,
    index: IndexConfig,
    project_dir: Path | None,
) -> Sandbox:
    """The sandbox where uv reads sdists' metadata with the target's interpreter: a
    python-build-standalone ``build``, else Debian's in a rootfs of the image's ``debs``."""
    if build is None:
        return target_sandbox(debs, python_version, index)
    return standalone_sandbox(build, python_version, project_dir)


def settle(
    future: Future[tuple[DebPackage, ...]], resolve: Callable[[], tuple[DebPackage, ...]]
) -> tuple[DebPackage, ...]:
    """``resolve()``, its result or failure also given to ``future`` (which a sandbox on
    another thread may wait for: it must never be left pending)."""
    try:
        result = resolve()
    except BaseException as e:
        future.set_exception(e)
        raise
    future.set_result(result)
    return result
