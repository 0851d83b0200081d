"""The pinned choices in third_party/debian.toml: suite per Python, baseline, exclusions."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass

from cog.third_party import data_file

if sys.version_info >= (3, 11):  # noqa: UP036
    import tomllib
else:  # cog.yaml's checks read these tables inside an image whose Python is 3.8-3.10
    import tomli as tomllib

DEBIAN_DATA = "debian.toml"


@dataclass(frozen=True)
class Suite:
    codename: str
    glibc: str
    main: tuple[str, ...]  # suites served by the main archive
    security: tuple[str, ...]  # suites served by the security archive
    interpreter: tuple[str, ...]


@dataclass(frozen=True)
class DebianData:
    python_suites: dict[str, str]
    suites: dict[str, Suite]
    baseline: tuple[str, ...]
    exclude: frozenset[str]

    def suite(self, codename: str) -> Suite:
        return self.suites[codename]

    def known_codenames(self) -> frozenset[str]:
        return frozenset(self.suites)


def data_bytes() -> bytes:
    """The raw file, part of the lock's inputs checksum."""
    return data_file(DEBIAN_DATA).read_bytes()


@functools.lru_cache(maxsize=None)  # noqa: UP033 (functools.cache: 3.9+)
def debian_data() -> DebianData:
    raw = tomllib.loads(data_bytes().decode())
    suites = {
        name: Suite(
            codename=name,
            glibc=str(s["glibc"]),
            main=tuple(s["main"]),
            security=tuple(s["security"]),
            interpreter=tuple(s["interpreter"]),
        )
        for name, s in raw["suites"].items()
    }
    return DebianData(
        python_suites=dict(raw["python"]),
        suites=suites,
        baseline=tuple(raw["baseline"]["packages"]),
        exclude=frozenset(raw["baseline"]["exclude"]),
    )
