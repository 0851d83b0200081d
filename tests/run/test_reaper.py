"""The reaper removes what a dead cog left, and nothing else: no live owner's container, no
name it did not make, nothing a symlink points at."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog._container.mounts import mounts_beneath
from cog._container.reaper import Claim, process_start_time, reap_stale

pytestmark = pytest.mark.unit

ID = "cog-0123456789ab"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    state = tmp_path / "state with space"
    state.mkdir()
    return state


@pytest.fixture
def dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


@pytest.fixture
def live_child() -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(["sleep", "600"])
    yield child
    child.kill()
    child.wait()


def write_record(root: Path, pid: int, start: int, container_id: str = ID) -> Path:
    record = root / f"{container_id}.json"
    fields = {"container_id": container_id, "owner_pid": pid, "owner_start": start}
    record.write_text(json.dumps(fields | {"runc_root": None}))
    return record


def make_bundle(root: Path, container_id: str = ID) -> Path:
    bundle = root / container_id
    (bundle / "upper" / "etc").mkdir(parents=True)
    (bundle / "config.json").write_text("{}")
    (bundle / "upper" / "etc" / "written").write_text("x")
    return bundle


def test_a_dead_owners_record_and_bundle_are_removed(root: Path, dead_pid: int) -> None:
    write_record(root, dead_pid, 1)
    make_bundle(root)
    assert reap_stale(root, None) == [ID]
    assert list(root.iterdir()) == []


def test_a_live_owners_claim_is_left_alone_until_released(root: Path) -> None:
    claim = Claim(root, ID, None)
    (claim.bundle / "config.json").write_text("{}")
    assert reap_stale(root, None) == []
    assert sorted(p.name for p in root.iterdir()) == [ID, f"{ID}.json"]
    claim.release()
    assert list(root.iterdir()) == []


def test_a_live_pid_with_its_start_time_is_never_reaped(
    root: Path, live_child: subprocess.Popen[bytes]
) -> None:
    start = process_start_time(live_child.pid)
    assert start is not None
    write_record(root, live_child.pid, start)
    make_bundle(root)
    assert reap_stale(root, None) == []
    write_record(root, live_child.pid, start + 1)  # the same pid, but another process
    assert reap_stale(root, None) == [ID]


def test_a_bundle_that_is_a_symlink_loses_the_link_not_its_target(
    root: Path, tmp_path: Path, dead_pid: int
) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    write_record(root, dead_pid, 1)
    (root / ID).symlink_to(outside)
    assert reap_stale(root, None) == [ID]
    assert (outside / "keep.txt").read_text() == "mine"
    assert list(root.iterdir()) == []


def test_a_link_inside_a_bundle_is_removed_not_followed(
    root: Path, tmp_path: Path, dead_pid: int
) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    write_record(root, dead_pid, 1)
    (make_bundle(root) / "upper" / "escape").symlink_to(outside)
    assert reap_stale(root, None) == [ID]
    assert (outside / "keep.txt").read_text() == "mine"


def test_a_record_that_is_a_symlink_is_never_read_or_removed_through(
    root: Path, tmp_path: Path
) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("{}")
    (root / f"{ID}.json").symlink_to(victim)
    make_bundle(root)
    assert reap_stale(root, None) == []
    assert victim.read_text() == "{}"
    assert (root / ID).is_dir()  # its record is there, so the bundle is not an orphan


def test_names_cog_does_not_make_are_left_alone(root: Path, dead_pid: int) -> None:
    for name in ("notes.json", "cog-xyz.json", "cog-0123456789abc.json"):
        write_record(root, dead_pid, 1, container_id=ID).rename(root / name)
    (root / "cog-12").mkdir()
    (root / "unrelated").mkdir()
    assert reap_stale(root, None) == []
    assert len(list(root.iterdir())) == 5


def test_a_bundle_without_its_record_and_an_unheld_partial_record_are_removed(
    root: Path,
) -> None:
    make_bundle(root)
    (root / ".partial-cog-aaaaaaaaaaaa").write_text("{")
    assert reap_stale(root, None) == [ID]
    assert list(root.iterdir()) == []


def test_no_state_directory_is_nothing_to_reap(tmp_path: Path) -> None:
    assert reap_stale(tmp_path / "absent", None) == []


@pytest.mark.integration
def test_mounts_beneath_a_bundle_are_detached_before_it_is_removed(
    root: Path, dead_pid: int
) -> None:
    write_record(root, dead_pid, 1)
    mounted = make_bundle(root) / "rootfs"
    mounted.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mounted)], check=True)
    (mounted / "inside").mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mounted / "inside")], check=True)
    assert mounts_beneath(root) == [mounted / "inside", mounted]
    assert reap_stale(root, None) == [ID]
    assert mounts_beneath(root) == []
    assert list(root.iterdir()) == []
