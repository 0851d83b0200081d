"""Where things come from, read from the user's own configuration, never from the lock.

Debian: the host's apt sources (/etc/apt/sources.list, sources.list.d/*.list and
*.sources), or COG_DEBIAN_MIRROR / COG_DEBIAN_SECURITY_MIRROR. The main archive serves
``<codename>`` and ``<codename>-updates``; the security archive, a separate base URL,
serves ``<codename>-security``. The codename itself comes from the lock's target, so a
bookworm host can lock a trixie image from the same mirrors.

Python: pip's and uv's configuration merged (``cog.rules.pylock.index_config``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cog.errors import LockError
from cog.rules.debian.apt_sources import DEFAULT_KEYRING, AptEntry, read_apt_sources
from cog.rules.debian.index import SuiteSource
from cog.rules.debian.targets import Suite, debian_data
from cog.rules.lockfile import DebPackage, Wheel
from cog.rules.pylock.index_config import IndexConfig, read_index_config
from cog.rules.pylock.urls import wheel_urls as _wheel_urls

__all__ = [
    "DebianArchive",
    "IndexConfig",
    "deb_urls",
    "debian_archives",
    "python_index_config",
    "suite_sources",
    "wheel_urls",
]

ETC_APT = Path("/etc/apt")
MIRROR_ENV = "COG_DEBIAN_MIRROR"
SECURITY_MIRROR_ENV = "COG_DEBIAN_SECURITY_MIRROR"
KEYRING_ENV = "COG_DEBIAN_KEYRING"


@dataclass(frozen=True)
class DebianArchive:
    kind: Literal["main", "security"]
    uri: str
    components: tuple[str, ...]
    keyring: str
    setting: str  # where it was configured, for error messages


def _base_codename(suite: str) -> str:
    return suite.split("-", 1)[0]


def _pick(entries: list[AptEntry], known: frozenset[str], *, security: bool) -> AptEntry | None:
    for entry in entries:
        for suite in entry.suites:
            if _base_codename(suite) in known and suite.endswith("-security") == security:
                return entry
    return None


def debian_archives(
    *, etc_apt: Path = ETC_APT, env: Mapping[str, str] | None = None
) -> tuple[DebianArchive, ...]:
    """The main archive and the security archive, each where one is configured."""
    env = os.environ if env is None else env
    entries = read_apt_sources(etc_apt) if etc_apt.is_dir() else []
    known = debian_data().known_codenames()
    default_keyring = env.get(KEYRING_ENV, DEFAULT_KEYRING)
    archives = []
    for kind, variable in (("main", MIRROR_ENV), ("security", SECURITY_MIRROR_ENV)):
        entry = _pick(entries, known, security=kind == "security")
        if env.get(variable):
            uri, setting = env[variable].rstrip("/"), variable
            components = entry.components if entry else ("main",)
            keyring = default_keyring
        elif entry is not None:
            uri, setting, components = entry.uri, entry.origin, entry.components
            keyring = entry.signed_by or default_keyring
        else:
            continue
        archives.append(
            DebianArchive(kind, uri, components or ("main",), keyring, setting)  # type: ignore[arg-type]
        )
    return tuple(archives)


def suite_sources(
    suite: Suite, *, etc_apt: Path = ETC_APT, env: Mapping[str, str] | None = None
) -> tuple[SuiteSource, ...]:
    """Every (archive, suite) to read for ``suite``: main, updates and security."""
    archives: dict[str, DebianArchive] = {
        a.kind: a for a in debian_archives(etc_apt=etc_apt, env=env)
    }
    for kind, variable in (("main", MIRROR_ENV), ("security", SECURITY_MIRROR_ENV)):
        if kind not in archives:
            raise LockError(
                f"no Debian {kind} archive is configured (looked in {etc_apt}/sources.list"
                f" and {etc_apt}/sources.list.d, and {variable})",
                hint=f"Set {variable} to a Debian {kind} mirror's base URL, or add it to "
                "your apt sources.",
            )
    result = []
    for kind, names in (("main", suite.main), ("security", suite.security)):
        archive = archives[kind]
        result += [
            SuiteSource(archive.uri, name, archive.components, archive.keyring, archive.setting)
            for name in names
        ]
    return tuple(result)


def deb_urls(
    pkg: DebPackage, *, etc_apt: Path = ETC_APT, env: Mapping[str, str] | None = None
) -> list[str]:
    kind = "security" if pkg.suite.endswith("-security") else "main"
    return [
        f"{a.uri}/{pkg.filename}"
        for a in debian_archives(etc_apt=etc_apt, env=env)
        if a.kind == kind
    ]


def python_index_config(project_dir: Path | None = None) -> IndexConfig:
    return read_index_config(project_dir=project_dir)


def wheel_urls(wheel: Wheel, index: IndexConfig | None = None) -> list[str]:
    return _wheel_urls(wheel, index if index is not None else python_index_config())
