"""Which uv `cog lock` runs, and uv's own failures reported as such.

The uv that comes with cog is found without any uv on PATH; COG_UV overrides it; a uv
that is missing, does not start or crashes is named in the error, never mistaken for a
resolution that found no answer (which is what falls back from the CPU builds).
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from cog.errors import LockError
from cog.progress import NullProgress, Task
from cog.rules import host_tools
from cog.rules.host_tools import UvMissingError, find_uv
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.lockset import resolve_python_sets
from cog.rules.pylock.resolve import Target, run_uv_compile
from cog.rules.pylock.uv_errors import ResolutionError, explain_uv_failure

TARGET = Target("3.11", "x86_64-manylinux_2_36")


def _executable(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _path_without_uv(tmp_path: Path) -> str:
    """PATH with every directory holding a `uv` left out, plus an empty one."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    kept = [
        d for d in os.environ.get("PATH", "").split(os.pathsep) if not (Path(d) / "uv").exists()
    ]
    return os.pathsep.join([str(empty), *kept])


class _Recorder(NullProgress):
    def __init__(self) -> None:
        self.infos: list[str] = []

    def info(self, message: str) -> None:
        self.infos.append(message)

    def task(self, description: str, total: int | None = None) -> Task:
        return super().task(description, total)


@pytest.mark.unit
def test_the_uv_installed_with_cog_is_found_with_no_uv_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", _path_without_uv(tmp_path))
    monkeypatch.delenv("COG_UV", raising=False)
    uv = find_uv()
    assert uv.source == "installed with cog"
    # The wheel's binary sits beside this interpreter's scripts.
    assert Path(uv.path).parent == Path(sys.executable).parent
    assert host_tools.version(uv.path) is not None


@pytest.mark.unit
def test_cog_uv_wins_over_the_bundled_uv(tmp_path: Path) -> None:
    fake = _executable(tmp_path / "my-uv", 'echo "uv 9.9.9"\n')
    assert find_uv({"COG_UV": str(fake), "PATH": ""}) == host_tools.Uv(str(fake), "COG_UV")


@pytest.mark.unit
def test_cog_uv_naming_no_executable_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UvMissingError, match=r"COG_UV=.*/nope is not an executable file") as info:
        find_uv({"COG_UV": str(tmp_path / "nope")})
    assert info.value.hint is not None
    assert "unset it" in info.value.hint


@pytest.mark.unit
def test_path_uv_is_the_last_resort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(host_tools, "_bundled_uv", lambda: None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    uv = _executable(bin_dir / "uv", 'echo "uv 0.0.1"\n')
    assert find_uv({"PATH": str(bin_dir)}) == host_tools.Uv(str(uv), "PATH")
    with pytest.raises(UvMissingError, match="uv is not installed: cog lock resolves"):
        find_uv({"PATH": str(tmp_path / "empty")})


@pytest.mark.unit
def test_a_uv_killed_by_a_signal_is_reported_as_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COG_UV", str(_executable(tmp_path / "uv", "kill -SEGV $$\n")))
    with pytest.raises(LockError, match="uv was killed by signal 11") as info:
        run_uv_compile(["six"], TARGET, IndexConfig())
    assert not isinstance(info.value, ResolutionError)
    assert info.value.hint is not None
    assert "COG_UV" in info.value.hint


@pytest.mark.unit
def test_a_uv_that_cannot_start_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "uv"
    broken.write_bytes(b"\x7fELF not really")
    broken.chmod(0o755)
    monkeypatch.setenv("COG_UV", str(broken))
    with pytest.raises(LockError, match=r"could not run uv \(.*/uv\): Exec format error"):
        run_uv_compile(["six"], TARGET, IndexConfig())


@pytest.mark.unit
def test_a_panic_is_a_crash_and_a_conflict_is_a_resolution_error() -> None:
    panic = "thread 'main' panicked at crates/uv/src/lib.rs:1:1:\nboom"
    assert "uv crashed" in explain_uv_failure(panic, "Python 3.11", IndexConfig()).message
    conflict = "  x No solution found when resolving dependencies:\n  a==1 and a==2"
    error = explain_uv_failure(conflict, "Python 3.11", IndexConfig())
    assert isinstance(error, ResolutionError)


@pytest.mark.unit
def test_uv_failing_is_never_blamed_on_the_cpu_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A find-links folder that offers a CPU build, so the CPU constraint is tried first.
    links = tmp_path / "links"
    links.mkdir()
    (links / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"")
    monkeypatch.setenv("COG_UV", str(_executable(tmp_path / "uv", "kill -KILL $$\n")))
    progress = _Recorder()
    with pytest.raises(LockError, match="uv was killed by signal 9"):
        resolve_python_sets(
            ["torch"], TARGET, IndexConfig(find_links=(str(links),)), gpu=False, progress=progress
        )
    assert not [line for line in progress.infos if "do not fit" in line]
