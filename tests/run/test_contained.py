"""The contained resolver alone: lookups never leave the root, with openat2 or without."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog._container import _contained
from cog._container._contained import ContainedRoot, SymlinkInPathError

pytestmark = pytest.mark.unit


@pytest.fixture(params=["openat2", "walk"])
def root(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ContainedRoot]:
    if request.param == "walk":
        monkeypatch.setattr(_contained, "_SYSCALL", None)
    elif _contained._SYSCALL is None:
        pytest.skip("no openat2 on this platform")
    base = tmp_path / "root"
    (base / "real" / "deep").mkdir(parents=True)
    (base / "file").write_text("x")
    os.symlink("/real", base / "abs")
    os.symlink("../../../../real", base / "up")
    os.symlink("/file", base / "tofile")
    os.symlink("loop/x", base / "loop")
    (tmp_path / "outside").mkdir()
    with ContainedRoot(base) as contained:
        yield contained


def _where(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def test_root_and_plain_directories(root: ContainedRoot) -> None:
    assert _where(root.open_dir("")) == str(root.path)
    assert _where(root.open_dir("real/deep")) == str(root.path / "real" / "deep")


@pytest.mark.parametrize("path", ["abs/deep", "up/deep", "../../real/deep", "abs/../../real/deep"])
def test_symlinks_and_dotdot_resolve_as_if_the_root_were_slash(
    root: ContainedRoot, path: str
) -> None:
    assert _where(root.open_dir(path)) == str(root.path / "real" / "deep")


def test_without_follow_any_symlink_on_the_way_is_refused(root: ContainedRoot) -> None:
    with pytest.raises(SymlinkInPathError):
        root.open_dir("abs/deep", follow=False)
    assert _where(root.open_dir("real/deep", follow=False)) == str(root.path / "real/deep")


def test_a_file_on_the_way_is_not_a_directory(root: ContainedRoot) -> None:
    with pytest.raises(NotADirectoryError):
        root.open_dir("tofile/x")


def test_a_symlink_loop_ends_in_eloop(root: ContainedRoot) -> None:
    with pytest.raises(OSError) as caught:  # noqa: PT011 (the errno is checked below)
        root.open_dir("loop")
    assert caught.value.errno == errno.ELOOP


def test_missing_directories_are_made_inside_the_root(root: ContainedRoot) -> None:
    with pytest.raises(FileNotFoundError):
        root.open_dir("abs/new/er")
    fd = root.open_dir("abs/new/er", create=True)
    assert _where(fd) == str(root.path / "real" / "new" / "er")
    assert (root.path / "real" / "new").stat().st_mode & 0o777 == 0o755
    assert not (root.path.parent / "outside" / "new").exists()


def test_open_parent_splits_off_the_final_component(root: ContainedRoot) -> None:
    fd, base = root.open_parent("abs/deep/name")
    assert (_where(fd), base) == (str(root.path / "real" / "deep"), "name")
    with pytest.raises(ValueError, match="names no entry"):
        root.open_parent("real/..")
