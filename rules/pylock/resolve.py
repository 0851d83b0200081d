"""Resolving requirements into pinned wheels for the target with ``uv pip compile``.

uv writes a PEP 751 pylock.toml listing, per package, the wheels compatible with
``--python-platform``/``--python-version`` with URL, size and sha256; the best one is
kept. An existing pylock.toml in uv's output path is read by uv as preferences, which
is how pins from a previous lock survive a re-lock without --upgrade.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cog.errors import LockError
from cog.rules.debian.index_fetch import file_url_path
from cog.rules.host_tools import find_uv
from cog.rules.lockfile import Sdist, Wheel
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.isolate import Sandbox, isolated
from cog.rules.pylock.simple import normalize, url_basename
from cog.rules.pylock.tags import wheel_rank
from cog.rules.pylock.uv_errors import ResolutionError, explain_uv_failure

UV_TIMEOUT_S = 300
# uv's own network settings: fail fast on a dead index instead of retrying for minutes.
_UV_ENV = {"UV_HTTP_TIMEOUT": "15", "UV_HTTP_RETRIES": "1", "UV_NO_PROGRESS": "1"}
# Index settings are passed as flags (from pip's and uv's configuration, merged); the
# environment must not add a second, different set.
_UV_ENV_DROP = (
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
    "UV_CONSTRAINT",
    "UV_NO_INDEX",
    "UV_CONFIG_FILE",
    "UV_INDEX_STRATEGY",
)


# The newest manylinux tag `uv --python-platform` accepts (uv 0.13). A wheel for an older
# glibc runs on a newer one, so a suite with a newer glibc (trixie: 2.41) resolves here.
NEWEST_UV_MANYLINUX = (2, 40)


def uv_platform(machine: str, glibc: str) -> str:
    """uv's --python-platform for ``machine`` with ``glibc`` ("2.36")."""
    major, minor = (int(part) for part in glibc.split(".")[:2])
    major, minor = min((major, minor), NEWEST_UV_MANYLINUX)
    return f"{machine}-manylinux_{major}_{minor}"


@dataclass(frozen=True)
class Target:
    python_version: str  # "3.11"
    uv_platform: str  # "x86_64-manylinux_2_36"

    def describe(self) -> str:
        return f"Python {self.python_version} on {self.uv_platform}"


@dataclass(frozen=True)
class Resolved:
    wheels: tuple[Wheel, ...]
    urls: dict[str, str]  # sha256 -> the URL uv found it at (a hint for fetching)
    sdists: tuple[Sdist, ...] = ()  # packages with no wheel for the target (allow_sdists)


def uv_binary() -> str:
    return find_uv().path


def index_flags(index: IndexConfig) -> list[str]:
    flags: list[str] = []
    if index.no_index:
        flags.append("--no-index")
    if index.index_url is not None:
        flags += ["--index-url", index.index_url]
    for url in index.extra_index_urls:
        flags += ["--extra-index-url", url]
    for location in index.find_links:
        flags += ["--find-links", location]
    if index.index_strategy is not None:
        flags += ["--index-strategy", index.index_strategy]
    for path in index.constraints:
        flags += ["--constraint", path]
    return flags


def write_preferences(path: Path, pins: Sequence[Wheel]) -> None:
    lines = ['lock-version = "1.0"', 'created-by = "cog"', ""]
    for wheel in sorted(pins, key=lambda w: w.name):
        lines += ["[[packages]]", f'name = "{wheel.name}"', f'version = "{wheel.version}"', ""]
    path.write_text("\n".join(lines))


def run_uv_compile(
    requirements: Sequence[str],
    target: Target,
    index: IndexConfig,
    *,
    preferences: Sequence[Wheel] = (),
    upgrade: bool | Sequence[str] = False,
    extra_constraints: Sequence[str] = (),
    allow_sdists: bool = False,
    sandbox: Sandbox | None = None,
) -> list[dict[str, Any]]:
    """The ``packages`` of uv's pylock.toml for these requirements.

    Only wheels are considered unless ``allow_sdists``: then a package whose versions have
    no wheel for the target may come as an sdist (``sdist = {url, hashes}``), built later,
    and uv runs in ``sandbox`` (``isolate``), since reading an sdist's metadata may run it.
    """
    with tempfile.TemporaryDirectory(prefix="cog-lock-") as tmp:
        work = Path(tmp)
        (work / "requirements.in").write_text("\n".join(requirements) + "\n")
        out = work / "pylock.toml"
        if preferences:
            write_preferences(out, preferences)
        argv = [uv_binary(), "pip", "compile", "requirements.in", "-o", out.name, "--quiet"]
        argv += ["--no-config", "--no-header"]
        if not allow_sdists:
            argv += ["--only-binary", ":all:"]
        argv += ["--python-version", target.python_version]
        argv += ["--python-platform", target.uv_platform]
        argv += index_flags(index)
        if extra_constraints:
            (work / "cog-constraints.txt").write_text("\n".join(extra_constraints) + "\n")
            argv += ["--constraint", "cog-constraints.txt"]
        if upgrade is True:
            argv.append("--upgrade")
        elif upgrade:
            for name in upgrade:
                argv += ["--upgrade-package", name]
        env = {k: v for k, v in os.environ.items() if k not in _UV_ENV_DROP} | _UV_ENV
        try:
            proc = subprocess.run(
                (sandbox or isolated)(argv, work) if allow_sdists else argv,
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=UV_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            raise LockError(
                f"resolving Python packages took over {UV_TIMEOUT_S} s",
                hint="Check that the configured package indexes are reachable.",
            ) from e
        except OSError as e:
            raise LockError(
                f"could not run uv ({argv[0]}): {e.strerror or e}",
                hint="Reinstall cog, or point COG_UV at a working uv binary.",
            ) from e
        if proc.returncode != 0:
            raise explain_uv_failure(
                proc.stderr, target.describe(), index, returncode=proc.returncode
            )
        packages: list[dict[str, Any]] = tomllib.loads(out.read_text()).get("packages", [])
        return packages


def _file_size_and_hash(url: str) -> tuple[int, str]:
    path = file_url_path(url)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


def pick_wheel(package: dict[str, Any], target: Target) -> tuple[Wheel, str]:
    """The best wheel of one pylock package entry, and its URL."""
    name = normalize(str(package["name"]))
    wheels = package.get("wheels") or []
    if not wheels:
        raise ResolutionError(
            f"{name} {package.get('version', '')} has no wheel for {target.describe()}",
            hint="It has neither a wheel for this platform nor an sdist cog could build "
            "from (the runtime's own packages must be wheels). Pin a version that ships "
            "one, or build it yourself in a build.run step of cog.yaml.",
        )
    best = max(wheels, key=lambda w: wheel_rank(_filename(w), target.python_version))
    url = str(best["url"])
    size, sha256 = size_and_sha256(best)
    wheel = Wheel(
        name=name,
        version=str(package["version"]),
        filename=_filename(best),
        sha256=sha256,
        size=size,
    )
    return wheel, url


def size_and_sha256(entry: dict[str, Any]) -> tuple[int, str]:
    """A pylock file entry's size and sha256 (read from the file itself for file: URLs)."""
    url = str(entry["url"])
    sha256 = entry.get("hashes", {}).get("sha256")
    size = entry.get("size")
    if url.startswith("file:") and sha256 is None:
        size, sha256 = _file_size_and_hash(url)
    elif url.startswith("file:") and size is None:
        size = file_url_path(url).stat().st_size
    if sha256 is None or size is None:
        raise LockError(
            f"the index gave no sha256 or size for {_filename(entry)}",
            hint="Use an index that publishes hashes (PEP 503 #sha256 fragments or PEP 691).",
        )
    return int(size), str(sha256)


def _filename(entry: dict[str, Any]) -> str:
    return str(entry.get("name") or url_basename(str(entry["url"])))


def to_wheels(
    packages: list[dict[str, Any]], target: Target, *, allow_sdists: bool = False
) -> Resolved:
    wheels: list[Wheel] = []
    sdists: list[Sdist] = []
    urls: dict[str, str] = {}
    for package in packages:
        if allow_sdists and not package.get("wheels") and package.get("sdist"):
            sdist = pinned_sdist(package)
            sdists.append(sdist)
            urls[sdist.sha256] = str(package["sdist"]["url"])
            continue
        if "wheels" not in package and ("directory" in package or "vcs" in package):
            raise LockError(
                f"{package['name']} comes from a local directory or VCS, not an index",
                hint="Publish it as a wheel to an index or find-links folder, or install "
                "it in a build.run step.",
            )
        wheel, url = pick_wheel(package, target)
        wheels.append(wheel)
        urls[wheel.sha256] = url
    by_name = sorted(wheels, key=lambda w: w.name)
    return Resolved(tuple(by_name), urls, tuple(sorted(sdists, key=lambda s: s.name)))


def pinned_sdist(package: dict[str, Any]) -> Sdist:
    """The lock entry of a pylock package that comes as an sdist only."""
    entry = package["sdist"]
    size, sha256 = size_and_sha256(entry)
    return Sdist(
        name=normalize(str(package["name"])),
        version=str(package["version"]),
        filename=_filename(entry),
        sha256=sha256,
        size=size,
    )
