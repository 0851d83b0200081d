"""Which interpreter an image gets, and the python-build-standalone (pbs) builds.

``python_version`` is a minor ("3.12") or an exact patch version ("3.12.16"). Debian's own
interpreter is used wherever a suite carries that minor (third_party/debian.toml); every
other supported version, and a patch version the suite does not ship, is a relocatable
CPython from python-build-standalone (the builds uv and rules_python install), pinned by
release, file name and sha256 in third_party/python_standalone.toml and placed under
/usr/local on a Debian base. A patch version is honoured exactly or refused.

The table's sha256 come from uv's own download metadata; ``COG_PYTHON_STANDALONE_TABLE``
names another table file (for tests that serve archives they made themselves).
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cog.errors import FetchError, LockError
from cog.rules.host_tools import find_uv
from cog.third_party import data_file

if sys.version_info >= (3, 11):  # noqa: UP036
    import tomllib
else:  # cog.yaml's checks read these tables inside an image whose Python is 3.8-3.10
    import tomli as tomllib

TABLE_DATA = "python_standalone.toml"
TABLE_ENV = "COG_PYTHON_STANDALONE_TABLE"
MIRROR_ENV = "UV_PYTHON_INSTALL_MIRROR"
SOURCE_DEBIAN = "debian"
SOURCE_STANDALONE = "python-build-standalone"
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


@dataclass(frozen=True)
class StandaloneBuild:
    version: str  # "3.12.16"
    arch: str  # "amd64" or "arm64"
    release: str  # the release tag, "20261110"
    file: str  # the archive's file name in that release
    sha256: str

    @property
    def minor(self) -> str:
        return minor_of(self.version)


@dataclass(frozen=True)
class StandaloneTable:
    base_suite: str  # the Debian suite whose packages the interpreter runs on
    builds: tuple[StandaloneBuild, ...]

    def for_arch(self, arch: str, minor: str) -> list[StandaloneBuild]:
        found = [b for b in self.builds if b.arch == arch and b.minor == minor]
        return sorted(found, key=lambda b: _key(b.version))

    def minors(self) -> set[str]:
        return {b.minor for b in self.builds}


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def minor_of(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _table_path() -> Path | None:
    override = os.environ.get(TABLE_ENV)
    return Path(override) if override else None


def table_bytes() -> bytes:
    """The raw table in use, part of the lock's inputs checksum."""
    path = _table_path()
    return path.read_bytes() if path is not None else data_file(TABLE_DATA).read_bytes()


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: 3.9+)
def _parse_table(data: bytes) -> StandaloneTable:
    raw = tomllib.loads(data.decode())
    builds = tuple(
        StandaloneBuild(
            version=str(b["version"]),
            arch=str(b["arch"]),
            release=str(b["release"]),
            file=str(b["file"]),
            sha256=str(b["sha256"]),
        )
        for b in raw["builds"]
    )
    return StandaloneTable(base_suite=str(raw["base_suite"]), builds=builds)


def standalone_table() -> StandaloneTable:
    return _parse_table(table_bytes())


# choosing


@dataclass(frozen=True)
class Choice:
    """Debian's interpreter from ``suite`` (``patch`` when one was asked for, to be checked
    against the resolved package), or ``build`` from pbs on ``suite``'s packages."""

    minor: str
    suite: str
    build: StandaloneBuild | None = None
    patch: str | None = None
    fallback: StandaloneBuild | None = None  # when Debian's patch turns out different


def supported_minors(debian_minors: set[str], table: StandaloneTable) -> list[str]:
    return sorted(debian_minors | table.minors(), key=_key)


def every_supported_minor() -> list[str]:
    """Every minor version cog builds, from Debian's suites and the pbs table."""
    from cog.rules.debian.targets import debian_data  # noqa: PLC0415

    return supported_minors(set(debian_data().python_suites), standalone_table())


def unsupported_message(python_version: str, supported: list[str]) -> tuple[str, str]:
    return (
        f"python_version {python_version!r} is not supported: cog builds Python "
        f'{", ".join(supported)}, as a minor version ("3.12") or an exact patch version '
        '("3.12.4")',
        "Set build.python_version in cog.yaml to one of these versions.",
    )


def _unsupported(python_version: str, supported: list[str]) -> LockError:
    message, hint = unsupported_message(python_version, supported)
    return LockError(message, hint=hint)


def choose(
    python_version: str, arch: str, python_suites: Mapping[str, str], table: StandaloneTable
) -> Choice:
    """The interpreter for ``python_version``, or one LockError saying what is supported."""
    supported = supported_minors(set(python_suites), table)
    match = _VERSION.match(python_version.strip())
    if match is None:
        raise _unsupported(python_version, supported)
    minor = f"{match[1]}.{match[2]}"
    if minor not in supported:
        raise _unsupported(python_version, supported)
    _check_runtime_runs_on(python_version, (int(match[1]), int(match[2])))
    builds = table.for_arch(arch, minor)
    patch = python_version.strip() if match[3] is not None else None
    exact = next((b for b in builds if b.version == patch), None)
    if minor in python_suites:
        return Choice(minor, python_suites[minor], patch=patch, fallback=exact)
    if patch is None and builds:
        return Choice(minor, table.base_suite, build=builds[-1])
    if exact is not None:
        return Choice(minor, table.base_suite, build=exact)
    raise unavailable_patch(python_version, None, builds)


def _check_runtime_runs_on(python_version: str, minor: tuple[int, int]) -> None:
    from cog.rules.pylock.runtime_wheels import runtime_data  # noqa: PLC0415

    data = runtime_data()
    if minor < data.requires_python:
        oldest = ".".join(map(str, data.requires_python))
        raise LockError(
            f"python_version {python_version!r} cannot run cog's runtime: "
            f"{data.requires_python_reason}",
            hint=f'Use Python {oldest} or newer (e.g. "{oldest}") in build.python_version.',
        )


def unavailable_patch(
    python_version: str, debian: tuple[str, str] | None, builds: list[StandaloneBuild]
) -> LockError:
    """``debian`` is (suite, the patch version it ships) when a suite carries the minor."""
    offered = [b.version for b in builds]
    where = [f"Debian {debian[0]} ships {debian[1]}"] if debian else []
    if offered:
        where.append(f"python-build-standalone has {', '.join(offered)}")
    minor = minor_of(python_version)
    return LockError(
        f"python_version {python_version!r} is not available ({'; '.join(where) or 'no build'})",
        hint=f'Use "{minor}" for the newest {minor}, or one of the patch versions listed.',
    )


def debian_upstream_version(deb_version: str) -> str:
    """'3.11.2' from Debian's '3.11.2-6+deb12u9' (epoch and revision dropped)."""
    upstream = deb_version.split(":", 1)[-1].rsplit("-", 1)[0]
    return re.split(r"[~+]", upstream, maxsplit=1)[0]


# where an archive is fetched from


def _uv_toml_mirror(env: Mapping[str, str], project_dir: Path | None) -> str | None:
    from cog.rules.pylock.index_config import _uv_files  # noqa: PLC0415

    found = None
    for path in _uv_files(env, Path(env.get("HOME", str(Path.home()))), project_dir):
        if path.is_file():
            value = tomllib.loads(path.read_text()).get("python-install-mirror")
            if isinstance(value, str) and value:
                found = value  # later files win, as with uv
    return found


def mirror(env: Mapping[str, str] | None = None, project_dir: Path | None = None) -> str | None:
    env = os.environ if env is None else env
    return env.get(MIRROR_ENV) or _uv_toml_mirror(env, project_dir)


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: 3.9+)
def _release_prefix(version: str) -> str | None:
    """Where uv itself downloads pbs builds from, read from its offline download list."""
    argv = [find_uv().path, "python", "list", version, "--all-versions", "--only-downloads"]
    argv += ["--all-platforms", "--output-format", "json"]
    env = {k: v for k, v in os.environ.items() if k != MIRROR_ENV}
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        return None
    for entry in json.loads(proc.stdout or "[]"):
        url = str(entry.get("url") or "")
        if entry.get("implementation") == "cpython" and url.count("/") > 4:
            return url.rsplit("/", 2)[0]
    return None


def archive_urls(
    build: StandaloneBuild, env: Mapping[str, str] | None = None, project_dir: Path | None = None
) -> list[str]:
    """MIRROR/<release>/<file> with the user's uv mirror, else the release location."""
    name = urllib.parse.quote(build.file, safe="")
    configured = mirror(env, project_dir)
    if configured:
        return [f"{configured.rstrip('/')}/{build.release}/{name}"]
    prefix = _release_prefix(build.minor)
    if prefix is None:
        raise FetchError(
            f"{build.file}: uv reports no download location for CPython {build.minor}",
            f"Set {MIRROR_ENV} (or python-install-mirror in uv.toml) to a mirror of "
            "python-build-standalone's releases.",
        )
    return [f"{prefix}/{build.release}/{name}"]
