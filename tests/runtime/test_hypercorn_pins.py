"""Hypercorn and h11 are pinned exactly wherever the runtime runs.

runtime/_tcp.py subclasses Hypercorn's private trio ``TCPServer`` (its ``_read_data``
loop, ``_task_group``, ``_initiate_server_close``, ``idle_task``) and reads h11's
connection state through ``protocol.protocol.connection``; runtime/_server.py installs
it in place of ``hypercorn.trio.run.TCPServer``. None of that is public API, so any other
version must be a deliberate change: re-read those internals, move the pins, re-run
tests/runtime/test_tcp_handler.py and scripts/bench_runtime.py.
"""

from __future__ import annotations

import importlib.metadata
import platform
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from cog.rules.lockfile_text import loads
from cog.rules.pylock.runtime_wheels import runtime_data

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent.parent
PINNED = ("hypercorn", "h11")
# Every Python an image may run the runtime on, and the host's.
PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


def _pin(requirements: tuple[str, ...] | list[str], name: str, python: str) -> str:
    """The one exact version ``requirements`` give ``name`` on ``python``."""
    environment = {"python_version": python, "python_full_version": f"{python}.0"}
    found = []
    for line in requirements:
        requirement = Requirement(line)
        if requirement.name != name:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1, f"{line!r}: one exact pin, nothing looser"
        assert specifiers[0].operator == "==", f"{line!r}: pinned with ==, nothing looser"
        assert "*" not in specifiers[0].version, f"{line!r}: no wildcard"
        found.append(specifiers[0].version)
    assert len(found) == 1, f"{name} on Python {python}: {len(found)} requirement lines apply"
    return found[0]


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("name", PINNED)
def test_the_image_runtime_pins_each_exactly(name: str, python: str) -> None:
    _pin(runtime_data().requirements, name, python)


@pytest.mark.parametrize("name", PINNED)
def test_the_repository_lock_resolved_the_pins(name: str) -> None:
    path = ROOT / "cog.lock"
    lock = loads(path.read_text(), str(path))
    versions = [wheel.version for wheel in lock.runtime if wheel.name == name]
    expected = _pin(runtime_data().requirements, name, lock.target.python_version)
    assert versions == [expected], "run `.venv/bin/python scripts/lock_self.py`"


@pytest.mark.parametrize("name", PINNED)
def test_the_host_package_pins_what_the_image_pins(name: str) -> None:
    # `cog serve --local` runs the same _tcp.py on the host's own Hypercorn.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python = project["requires-python"].removeprefix(">=")
    host = _pin(project["dependencies"], name, python)
    for newer in PYTHONS[PYTHONS.index(python) :]:
        assert _pin(runtime_data().requirements, name, newer) == host


@pytest.mark.parametrize("name", PINNED)
def test_the_installed_module_is_the_pinned_version(name: str) -> None:
    python = ".".join(platform.python_version_tuple()[:2])
    expected = _pin(runtime_data().requirements, name, python)
    assert importlib.metadata.version(name) == expected
