"""Unpacking tars with PEP 706's rules whether or not the interpreter has tarfile's filters
(Debian 12's python3, 3.11.2, has none): each case runs both ways."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cog.errors import BuildError
from cog.rules import tar_extract
from cog.rules.layers import extract_layer

pytestmark = pytest.mark.unit


@pytest.fixture(params=["own rules", "tarfile's filters"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "tarfile's filters":
        if not hasattr(tarfile, "data_filter"):
            pytest.skip("this interpreter's tarfile has no extraction filters")
    else:
        old = _extract_without_filters(tarfile.TarFile.extract)
        monkeypatch.setattr(tarfile.TarFile, "extract", old)
    monkeypatch.setattr(tar_extract, "_HAS_FILTERS", request.param != "own rules")
    return str(request.param)


def _extract_without_filters(real: Callable[..., None]) -> Callable[..., None]:
    """tarfile.extract as 3.11.2 has it: a filter argument is a TypeError."""

    def extract(
        self: tarfile.TarFile,
        member: tarfile.TarInfo | str,
        path: str | os.PathLike[str] = "",
        set_attrs: bool = True,
        *,
        numeric_owner: bool = False,
        **kw: object,
    ) -> None:
        if kw:
            raise TypeError(f"extract() got an unexpected keyword argument {next(iter(kw))!r}")
        if hasattr(tarfile, "fully_trusted_filter"):
            kw = {"filter": "fully_trusted"}
        real(self, member, path, set_attrs, numeric_owner=numeric_owner, **kw)

    return extract


def _archive(tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    path = tmp_path / "a.tar"
    with tarfile.open(path, "w") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def _member(
    name: str, kind: bytes = tarfile.REGTYPE, *, mode: int = 0o644, link: str = ""
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = link
    return info


def _unpack(archive: Path, dest: Path, kind: tar_extract.Filter) -> None:
    with tarfile.open(archive) as tar:
        tar_extract.extract_all(tar, dest, kind)


@pytest.mark.parametrize("kind", ["tar", "data"])
def test_ordinary_members_unpack_with_their_modes(
    way: str, tmp_path: Path, kind: tar_extract.Filter
) -> None:
    archive = _archive(
        tmp_path,
        [
            (_member("pkg", tarfile.DIRTYPE, mode=0o755), b""),
            (_member("pkg/run", mode=0o755), b"#!/bin/sh\n"),
            (_member("pkg/data.txt"), b"hello"),
            (_member("pkg/again", tarfile.LNKTYPE, link="pkg/data.txt"), b""),
            (_member("pkg/alias", tarfile.SYMTYPE, link="data.txt"), b""),
        ],
    )
    dest = tmp_path / "out"
    _unpack(archive, dest, kind)
    assert (dest / "pkg/data.txt").read_bytes() == b"hello"
    assert (dest / "pkg/again").read_bytes() == b"hello"
    assert os.readlink(dest / "pkg/alias") == "data.txt"
    assert stat.S_IMODE((dest / "pkg/run").stat().st_mode) == 0o755


@pytest.mark.parametrize("kind", ["tar", "data"])
@pytest.mark.parametrize(
    "members",
    [
        [(_member("../escaped"), b"x")],
        [(_member("a/../../escaped"), b"x")],
        [(_member("out", tarfile.SYMTYPE, link=".."), b""), (_member("out/escaped"), b"x")],
        [(_member("hard", tarfile.LNKTYPE, link="../victim"), b"")],
    ],
    ids=["dotdot", "nested-dotdot", "through-symlink", "hardlink-out"],
)
def test_members_that_leave_the_destination_are_refused(
    way: str, tmp_path: Path, kind: tar_extract.Filter, members: list[tuple[tarfile.TarInfo, bytes]]
) -> None:
    dest = tmp_path / "out-dir" / "root"
    dest.mkdir(parents=True)
    (tmp_path / "out-dir" / "victim").write_text("keep")
    archive = _archive(tmp_path, members)
    with pytest.raises(tar_extract.UnsafeMember):
        _unpack(archive, dest, kind)
    assert not (tmp_path / "escaped").exists()
    assert not (tmp_path / "out-dir" / "escaped").exists()
    assert (tmp_path / "out-dir" / "victim").read_text() == "keep"
    assert not (dest / "hard").exists()


def test_an_absolute_name_lands_inside(way: str, tmp_path: Path) -> None:
    archive = _archive(tmp_path, [(_member("/etc/owned"), b"x")])
    _unpack(archive, tmp_path / "root", "tar")
    assert (tmp_path / "root/etc/owned").read_bytes() == b"x"


def test_layer_symlinks_may_be_absolute_but_data_ones_may_not(way: str, tmp_path: Path) -> None:
    archive = _archive(tmp_path, [(_member("bin", tarfile.SYMTYPE, link="/usr/bin"), b"")])
    _unpack(archive, tmp_path / "layer", "tar")
    assert os.readlink(tmp_path / "layer/bin") == "/usr/bin"
    with pytest.raises(tar_extract.UnsafeMember):
        _unpack(archive, tmp_path / "data", "data")


def test_setuid_and_world_write_bits_are_cleared(way: str, tmp_path: Path) -> None:
    archive = _archive(tmp_path, [(_member("su", mode=0o4777), b"x")])
    _unpack(archive, tmp_path / "root", "tar")
    assert stat.S_IMODE((tmp_path / "root/su").stat().st_mode) == 0o755


def test_data_refuses_devices_and_keeps_files_readable(way: str, tmp_path: Path) -> None:
    fifo = _archive(tmp_path, [(_member("pipe", tarfile.FIFOTYPE), b"")])
    with pytest.raises(tar_extract.UnsafeMember):
        _unpack(fifo, tmp_path / "fifo", "data")
    locked = _archive(tmp_path, [(_member("f", mode=0o011), b"x")])
    _unpack(locked, tmp_path / "locked", "data")
    assert stat.S_IMODE((tmp_path / "locked/f").stat().st_mode) == 0o600


def test_a_hostile_base_layer_is_a_build_error(way: str, tmp_path: Path) -> None:
    blob = _archive(tmp_path, [(_member("../../outside"), b"x")])
    with pytest.raises(BuildError, match="unsafe member"):
        extract_layer(blob, tmp_path / "a" / "b")
    assert not (tmp_path / "outside").exists()
