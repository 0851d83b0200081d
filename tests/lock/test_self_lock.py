"""This repository's own cog.lock must match the third_party pins it was made from."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog.locking import base_inputs_checksum
from cog.rules.lockfile_text import dumps, loads

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.unit
def test_repository_lock_is_current() -> None:
    path = ROOT / "cog.lock"
    text = path.read_text()
    lock = loads(text, str(path))
    assert lock.inputs_sha256 == base_inputs_checksum("3.11", "linux/amd64"), (
        "third_party changed: run `.venv/bin/python scripts/lock_self.py` and commit cog.lock"
    )
    assert (lock.target.python_version, lock.target.debian_suite) == ("3.11", "bookworm")
    assert dumps(lock) == text
    names = {w.name for w in lock.runtime}
    assert {"hypercorn", "pydantic", "pyyaml", "quart-trio", "requests", "trio"} <= names
    assert not names & {"oras", "pex"}
    debs = {d.name for d in lock.debian}
    assert {"libc6", "libstdc++6", "python3.11", "ca-certificates", "openssl"} <= debs
    assert not debs & {"dpkg", "debconf", "mawk"}
