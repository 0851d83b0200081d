"""Debian version ordering against dpkg's own verdicts on real pairs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cog.rules.debian.deb_version import compare, satisfies, version_key

FIXTURE = Path(__file__).parent.parent / "fixtures" / "lock" / "dpkg_versions.txt"
_SIGN = {"<": -1, "=": 0, ">": 1}


def _pairs() -> list[tuple[str, str, str]]:
    rows = []
    for line in FIXTURE.read_text().splitlines():
        if line and not line.startswith("#"):
            a, op, b = line.split(" ")
            rows.append((a, op, b))
    return rows


@pytest.mark.unit
def test_matches_dpkg_on_real_pairs() -> None:
    pairs = _pairs()
    assert len(pairs) > 400
    wrong = [(a, op, b) for a, op, b in pairs if compare(a, b) != _SIGN[op]]
    assert wrong == []
    assert all(compare(b, a) == -_SIGN[op] for a, op, b in pairs)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),
        ("1.0", "1.0-0", 0),
        ("1:0.1", "2.0", 1),
        ("1.0~~", "1.0~", -1),
        ("2.36-9+deb12u14", "2.36-9+deb12u9", 1),
        ("1.0a", "1.0+", -1),
        ("3.0.22-1~deb12u2", "3.0.22-1", -1),
        ("1.2.3-1-2", "1.2.3-1-1", 1),
    ],
)
def test_rules(a: str, b: str, expected: int) -> None:
    assert compare(a, b) == expected


@pytest.mark.unit
def test_relations_and_sorting() -> None:
    assert satisfies("2.36-9", ">=", "2.36")
    assert not satisfies("2.36-9", ">>", "2.36-9")
    assert satisfies("1.0~rc1", "<<", "1.0")
    assert satisfies("1.0", "=", "1.0-0")
    with pytest.raises(ValueError, match="unknown version relation"):
        satisfies("1", "!=", "2")
    assert sorted(["1:0", "2.0", "1.0~a", "1.0"], key=version_key) == ["1.0~a", "1.0", "2.0", "1:0"]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg")
def test_fixture_still_agrees_with_installed_dpkg() -> None:
    for a, op, b in _pairs()[::10]:
        relation = {"<": "lt", "=": "eq", ">": "gt"}[op]
        argv = ["dpkg", "--compare-versions", a, relation, b]
        assert subprocess.run(argv, check=False).returncode == 0
