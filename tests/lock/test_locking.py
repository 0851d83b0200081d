"""cog.locking: checksums, staleness, and whole locks against the real mirror and index."""

from __future__ import annotations

import hashlib
import re
import socket
import time
from pathlib import Path

import pytest

from cog.config import load_config
from cog.errors import LockError
from cog.locking import check_lock, inputs_checksum, lock_project
from cog.progress import NullProgress
from cog.rules.lockfile import Lock, Target, Wheel
from cog.rules.lockfile_text import dumps
from cog.rules.pylock.index_config import IndexConfig, read_index_config
from cog.rules.pylock.resolve import Target as PythonTarget
from cog.rules.pylock.resolve import run_uv_compile

from .conftest import MakeProject

SIMPLE = """\
build:
  python_version: "3.11"
  python_packages:
    - six
  system_packages:
    - jq
predict: predict.py:Predictor
"""
TARGET = PythonTarget("3.11", "x86_64-manylinux_2_36")
_WHEEL_TAGS = re.compile(
    r"-(cp311|py3|py2\.py3|cp3\d-abi3)[^-]*-[^-]+-(any|manylinux\S*x86_64)\.whl$"
)


def _write_lock(project: Path, checksum: str) -> None:
    lock = Lock(
        inputs_sha256=checksum,
        target=Target(python_version="3.11", debian_suite="bookworm"),
    )
    (project / "cog.lock").write_text(dumps(lock))


@pytest.mark.unit
def test_check_lock_missing_and_stale(make_project: MakeProject) -> None:
    project = make_project(SIMPLE)
    with pytest.raises(LockError, match=r"cog\.lock is missing") as info:
        check_lock(project)
    assert info.value.hint is not None
    assert "`cog lock`" in info.value.hint
    _write_lock(project, inputs_checksum(project, load_config(project / "cog.yaml")))
    assert check_lock(project).target.debian_suite == "bookworm"
    (project / "cog.yaml").write_text(SIMPLE.replace("six", "six==1.17.0"))
    with pytest.raises(LockError, match="stale") as info:
        check_lock(project)
    assert info.value.hint is not None
    assert "cog lock" in info.value.hint


@pytest.mark.unit
def test_inputs_checksum_covers_requirements_and_weights(make_project: MakeProject) -> None:
    project = make_project(
        SIMPLE.replace("  python_packages:\n    - six\n", '  python_requirements: "r.txt"\n')
        + "weights:\n  - path: weights\n"
    )
    (project / "r.txt").write_text("-r more.txt\n")
    (project / "more.txt").write_text("six\n")
    (project / "weights").mkdir()
    (project / "weights" / "a.bin").write_bytes(b"1")

    def checksum() -> str:
        return inputs_checksum(project, load_config(project / "cog.yaml"))

    first = checksum()
    (project / "unrelated.txt").write_text("x")
    assert checksum() == first
    (project / "more.txt").write_text("six==1.17.0\n")
    second = checksum()
    assert second != first
    (project / "weights" / "b.bin").write_bytes(b"2")
    assert checksum() != second


@pytest.mark.unit
def test_unsupported_python_version(make_project: MakeProject) -> None:
    # Every minor 3.8-3.14 is built (tests/lock/test_python_versions.py); a patch version
    # that neither Debian nor python-build-standalone has is refused, never swapped.
    project = make_project(SIMPLE.replace('"3.11"', '"3.12.99"'))
    with pytest.raises(LockError, match=r"'3\.12\.99' is not available") as info:
        lock_project(project, progress=NullProgress())
    assert info.value.hint is not None
    assert '"3.12"' in info.value.hint


@pytest.mark.integration
def test_unreachable_index_fails_fast_naming_the_setting() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/simple"
    index = IndexConfig(index_url=url, origins=((url, "index-url in /etc/pip.conf"),))
    started = time.monotonic()
    with pytest.raises(LockError, match=r"cannot reach the package index .*/etc/pip.conf"):
        run_uv_compile(["six"], TARGET, index)
    assert time.monotonic() - started < 30


@pytest.mark.network
@pytest.mark.integration
@pytest.mark.parametrize(
    ("requirement", "platform", "match"),
    [
        ("cog-no-such-package-zzq", TARGET, "unknown Python package 'cog-no-such-package-zzq'"),
        ("pydantic==2.7.0\npydantic-core==2.0.0", TARGET, r"(?s)conflict.*pydantic-core==2.18.1"),
        (
            "torch==2.5.0",
            PythonTarget("3.13", "aarch64-manylinux_2_17"),
            "torch has no wheel for Python 3.13",
        ),
    ],
)
def test_resolution_errors(requirement: str, platform: PythonTarget, match: str) -> None:
    with pytest.raises(LockError, match=match):
        run_uv_compile(requirement.split("\n"), platform, read_index_config())


@pytest.mark.network
@pytest.mark.integration
def test_lock_relock_and_staleness(make_project: MakeProject, cog_cache: Path) -> None:
    project = make_project(SIMPLE + "weights:\n  - path: weights\n")
    (project / "weights" / "sub").mkdir(parents=True)
    (project / "weights" / "sub" / "w.bin").write_bytes(b"abc")
    result = lock_project(project, progress=NullProgress())
    assert result.changed
    lock = result.lock
    assert [(w.path, w.sha256, w.size) for w in lock.weights] == [
        ("weights/sub/w.bin", hashlib.sha256(b"abc").hexdigest(), 3)
    ]
    debs = {d.name: d for d in lock.debian}
    assert {"jq", "libjq1", "libc6", "python3.11", "tzdata"} <= set(debs)
    assert not set(debs) & {"dpkg", "debconf", "mawk"}
    # The model's set (pip comes with every image) apart from the runtime's.
    assert [w.name for w in lock.python] == ["pip", "six"]
    assert {"pydantic", "trio", "hypercorn", "quart-trio"} <= {w.name for w in lock.runtime}
    assert "pip" not in {w.name for w in lock.runtime}
    for wheel in (*lock.python, *lock.runtime):
        assert _WHEEL_TAGS.search(wheel.filename), wheel.filename
    text = result.path.read_bytes()
    mtime = result.path.stat().st_mtime_ns

    again = lock_project(project, progress=NullProgress())
    assert not again.changed
    assert result.path.read_bytes() == text
    assert result.path.stat().st_mtime_ns == mtime
    assert check_lock(project) == lock

    (project / "cog.yaml").write_text(SIMPLE + "weights:\n  - path: weights\n# a comment\n")
    with pytest.raises(LockError, match="stale"):
        check_lock(project)
    relocked = lock_project(project, progress=NullProgress())
    changed = [
        (a, b)
        for a, b in zip(
            text.decode().splitlines(), result.path.read_text().splitlines(), strict=True
        )
        if a != b
    ]
    assert len(changed) == 1
    assert changed[0][0].startswith("inputs_sha256")
    assert relocked.lock.debian == lock.debian


@pytest.mark.network
@pytest.mark.integration
def test_system_package_not_in_suite(make_project: MakeProject, cog_cache: Path) -> None:
    project = make_project(SIMPLE.replace("- jq", "- libssl"))
    with pytest.raises(
        LockError, match=r"'libssl' is not in Debian bookworm.*Did you mean: .*libssl3"
    ):
        lock_project(project, progress=NullProgress())


@pytest.mark.network
@pytest.mark.integration
def test_pins_are_kept_unless_upgraded(make_project: MakeProject, cog_cache: Path) -> None:
    project = make_project(SIMPLE)
    old_idna = Wheel(
        name="idna", version="3.7", filename="idna-3.7-py3-none-any.whl", sha256="0" * 64, size=1
    )
    previous = Lock(
        inputs_sha256="0" * 64,  # stale on purpose: forces a resolution
        target=Target(python_version="3.11", debian_suite="bookworm"),
        runtime=(old_idna,),
    )
    (project / "cog.lock").write_text(dumps(previous))
    kept = lock_project(project, progress=NullProgress())
    assert {w.name: w.version for w in kept.lock.runtime}["idna"] == "3.7"
    upgraded = lock_project(project, upgrade=["idna"], progress=NullProgress())
    idna = {w.name: w for w in upgraded.lock.runtime}["idna"]
    assert idna.version != "3.7"
    assert idna.sha256 != "0" * 64


@pytest.mark.network
@pytest.mark.integration
def test_default_python_version_locks_on_trixie(make_project: MakeProject, cog_cache: Path) -> None:
    # `cog init` writes python_version 3.13: its suite's glibc (2.41) is newer than any
    # manylinux tag uv names, which must not stop the lock.
    project = make_project('build:\n  python_version: "3.13"\n')
    lock = lock_project(project, progress=NullProgress()).lock
    assert (lock.target.debian_suite, lock.target.python_version) == ("trixie", "3.13")
    assert "python3.13" in {d.name for d in lock.debian}
    assert {"pydantic", "trio"} <= {w.name for w in lock.runtime}
    assert all(
        re.search(r"-(cp313|py3|py2\.py3|cp3\d+-abi3)-", w.filename) for w in lock.runtime
    ), [w.filename for w in lock.runtime]
