"""requirements-dev.txt: the dev environment, pinned by sha256, naming no host.

scripts/lib/bootstrap.sh syncs .venv to exactly this file (scripts/test and scripts/demo
start with it), and scripts/build_pex.py takes the pex's versions from it. Regenerate it
after changing pyproject.toml's dependencies:

    .venv/bin/uv pip compile pyproject.toml --group dev --universal --generate-hashes \\
        --no-emit-index-url --no-emit-find-links -o requirements-dev.txt
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "requirements-dev.txt"
# The machines the dev environment is made on: Linux, each CPython the project supports.
ENVIRONMENTS = [
    {"python_version": v, "python_full_version": f"{v}.0", "sys_platform": "linux"}
    for v in ("3.11", "3.12", "3.13")
]


def _entries() -> list[tuple[Requirement, list[str]]]:
    """Each requirement of the file with its hashes."""
    text = PINS.read_text().replace("\\\n", " ")
    entries = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *hashes = line.split(" --hash=")
        entries.append((Requirement(spec), [h.strip() for h in hashes]))
    return entries


def _pinned(environment: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for requirement, _ in _entries():
        if requirement.marker is None or requirement.marker.evaluate(environment):
            (specifier,) = requirement.specifier
            name = canonicalize_name(requirement.name)
            assert name not in found, f"{name} pinned twice for {environment}"
            found[name] = specifier.version
    return found


def test_every_package_is_pinned_exactly_with_its_hashes() -> None:
    entries = _entries()
    assert len(entries) > 30
    for requirement, hashes in entries:
        specifiers = list(requirement.specifier)
        assert [s.operator for s in specifiers] == ["=="], str(requirement)
        assert hashes, f"{requirement.name} has no hash"
        assert all(h.startswith("sha256:") and len(h) == 71 for h in hashes), requirement.name


def test_no_index_or_host_is_named() -> None:
    text = PINS.read_text()
    assert "://" not in text
    for option in ("--index-url", "--extra-index-url", "--find-links", "-i ", "-f ", "--trusted"):
        assert f"\n{option}" not in text, option


@pytest.mark.parametrize("environment", ENVIRONMENTS, ids=lambda e: e["python_version"])
def test_what_pyproject_asks_for_is_pinned(environment: dict[str, str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = [*project["project"]["dependencies"], *project["dependency-groups"]["dev"]]
    pinned = _pinned(environment)
    stale = []
    for line in wanted:
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            stale.append(f"{line} (pinned: {version})")
    assert stale == [], "pyproject.toml changed: regenerate requirements-dev.txt (see above)"


def test_the_bootstrap_syncs_the_pins() -> None:
    script = (ROOT / "scripts" / "lib" / "bootstrap.sh").read_text()
    assert "pip sync" in script
    assert "requirements-dev.txt" in script
    assert "uv sync" not in script.replace("uv pip sync", "")
