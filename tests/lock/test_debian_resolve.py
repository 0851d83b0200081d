"""Control parsing and the dependency closure, on small hand-written indexes."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog.errors import LockError
from cog.rules.debian.closure import Universe, closure
from cog.rules.debian.control import Relation, iter_stanzas, parse_depends
from cog.rules.debian.index import IndexedPackage, package_from_row, parse_packages

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lock"
EXCLUDE = frozenset({"dpkg", "debconf", "mawk"})


def _suite(name: str, suite: str) -> list[IndexedPackage]:
    rows = parse_packages((FIXTURES / name).read_text())
    return [package_from_row(row, suite) for row in rows]


@pytest.fixture
def universe() -> Universe:
    main = _suite("Packages.small", "bookworm")
    security = _suite("Packages.security", "bookworm-security")
    return Universe(main + security, "amd64")


@pytest.mark.unit
def test_stanzas_keep_continuations_and_drop_unwanted_fields() -> None:
    text = (FIXTURES / "Packages.small").read_text()
    first = next(iter_stanzas(text))
    assert first["Description"].endswith("another one")
    kept = next(iter_stanzas(text, ("Package", "Version")))
    assert kept == {"Package": "libc6", "Version": "2.36-9+deb12u10"}


@pytest.mark.unit
def test_dependency_syntax() -> None:
    groups = parse_depends(
        "zlib1g:any (>= 1:1.2.0) | zlib-virtual, libc6 (>= 2.36) [amd64] <!nocheck>"
    )
    assert groups == (
        (Relation("zlib1g", ">=", "1:1.2.0", "any"), Relation("zlib-virtual")),
        (Relation("libc6", ">=", "2.36"),),
    )
    with pytest.raises(ValueError, match="cannot parse"):
        parse_depends("bad name!")


@pytest.mark.unit
def test_closure_cycle_virtuals_exclusions_and_max_version(universe: Universe) -> None:
    chosen = closure(
        universe, ["base-files", "ca-certificates", "python3-minimal"], exclude=EXCLUDE
    )
    by_name = {p.name: p for p in chosen}
    assert sorted(by_name) == [
        "base-files",
        "ca-certificates",
        "gcc-12-base",
        "libc6",
        "libgcc-s1",
        "libssl3",
        "openssl",
        "python3-minimal",
        "python3.11-minimal",
        "zlib1g",
    ]
    # awk: mawk is excluded, so base-files' Pre-Depends is met without gawk.
    # libc6: the main suite's is newer than security's; libssl3: security's is newer.
    assert (by_name["libc6"].version, by_name["libc6"].suite) == ("2.36-9+deb12u10", "bookworm")
    assert by_name["libssl3"].suite == "bookworm-security"
    assert by_name["zlib1g"].architecture == "amd64"


@pytest.mark.unit
def test_preferences_keep_an_older_pin(universe: Universe) -> None:
    chosen = closure(universe, ["libssl3"], prefer={"libssl3": "3.0.15-1"})
    assert {p.name: p.version for p in chosen}["libssl3"] == "3.0.15-1"


@pytest.mark.unit
def test_virtual_root_picks_a_provider(universe: Universe) -> None:
    chosen = closure(universe, ["awk"])
    assert "gawk" in {p.name for p in chosen}


@pytest.mark.unit
def test_unknown_system_package_suggests_close_names(universe: Universe) -> None:
    with pytest.raises(LockError, match=r"'libssl' is not in bookworm.*libssl3") as info:
        closure(universe, ["libssl"], suite_label="bookworm")
    assert info.value.hint is not None
    assert "system_packages" in info.value.hint


@pytest.mark.unit
def test_unsatisfiable_dependency_names_both_packages(universe: Universe) -> None:
    with pytest.raises(LockError, match=r"curl 7.88.1-10 .*depends on libcurl4"):
        closure(universe, ["curl"])
