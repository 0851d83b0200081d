"""Hostile layers against the rootfs unpacker: nothing outside the root is ever touched.

Every test plants a canary outside the unpack root and checks it afterwards, byte for
byte, with its mode and owner.
"""

from __future__ import annotations

import gzip
import os
import stat
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

from cog._container import _contained, _layerstream
from cog._container.image import load_image
from cog._container.rootfs import chain_id, unpacked_rootfs
from cog.errors import RunError
from tests.support.oci_layers import Canary, Layout, make_canary, member, symlink, tar

pytestmark = pytest.mark.unit

MiB = 1024 * 1024


@pytest.fixture(autouse=True, params=["openat2", "walk"])
def resolver(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every attack against both ways of resolving: openat2 and the fd-by-fd walk."""
    if request.param == "walk":
        monkeypatch.setattr(_contained, "_SYSCALL", None)
    elif _contained._SYSCALL is None:
        pytest.skip("no openat2 on this platform")
    return str(request.param)


@pytest.fixture
def canary(tmp_path: Path) -> Canary:
    return make_canary(tmp_path / "host")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def nothing_cached(cache: Path) -> bool:
    rootfs = cache / "rootfs"
    return not rootfs.exists() or not any(rootfs.iterdir())


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
@pytest.mark.parametrize("entry", ["esc/.wh.a.txt", "esc/.wh..wh..opq"])
def test_whiteout_through_a_planted_symlink_is_refused(
    tmp_path: Path, canary: Canary, cache: Path, entry: str, relative: bool
) -> None:
    target = "../" * 12 + str(canary.directory)[1:] if relative else str(canary.directory)
    layout = Layout(tmp_path / "layout").add(tar([symlink("esc", target)]))
    layout.add(tar([(entry, b"")]))
    with pytest.raises(RunError, match=rf"layer sha256:[0-9a-f]{{64}}: entry '{entry}'.*symlink"):
        layout.unpack(cache)
    assert canary.intact()
    assert nothing_cached(cache)


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_file_through_a_planted_symlink_lands_inside_the_root(
    tmp_path: Path, canary: Canary, cache: Path, relative: bool
) -> None:
    target = "../" * 12 + str(canary.directory)[1:] if relative else str(canary.directory)
    layout = Layout(tmp_path / "layout").add(tar([symlink("esc", target)]))
    layout.add(tar([("esc/a.txt", b"image data"), ("esc/new.txt", b"more")]))
    root = layout.unpack(cache)
    assert canary.intact()
    inside = root / str(canary.directory)[1:]
    assert (inside / "a.txt").read_bytes() == b"image data"
    assert (inside / "new.txt").read_bytes() == b"more"
    assert (root / "esc").is_symlink()


def test_symlink_chain_and_dotdot_stay_inside(tmp_path: Path, canary: Canary, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(
        tar(
            [
                symlink("one", "two/../../../.."),
                symlink("two", "/"),
                symlink("loop", "loop/x"),
            ]
        )
    )
    layout.add(tar([(f"one/{str(canary.directory)[1:]}/a.txt", b"image data")]))
    root = layout.unpack(cache)
    assert canary.intact()
    assert (root / str(canary.directory)[1:] / "a.txt").read_bytes() == b"image data"


def test_symlink_loop_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([symlink("loop", "loop/x")]))
    layout.add(tar([("loop/file", b"x")]))
    with pytest.raises(RunError, match="cannot unpack entry 'loop/file'"):
        layout.unpack(cache)
    assert nothing_cached(cache)


@pytest.mark.parametrize(
    "link",
    ["{host}/a.txt", "../../../../../../../../..{host}/a.txt", "esc/a.txt"],
    ids=["absolute", "dotdot", "through-symlink"],
)
def test_hardlink_to_a_host_file_is_refused(
    tmp_path: Path, canary: Canary, cache: Path, link: str
) -> None:
    layout = Layout(tmp_path / "layout").add(tar([symlink("esc", str(canary.directory))]))
    hardlink = member(
        "h", tarfile.LNKTYPE, linkname=link.format(host=canary.directory), mode=0o4777, uid=1234
    )
    layout.add(tar([hardlink]))
    with pytest.raises(RunError, match=r"hardlink 'h' .*|outside the image"):
        layout.unpack(cache)
    assert canary.intact()
    assert nothing_cached(cache)


def test_hardlink_to_a_symlink_is_refused(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(
        tar([symlink("s", "/etc/shadow"), member("h", tarfile.LNKTYPE, linkname="s")])
    )
    with pytest.raises(RunError, match="only regular files may be hardlinked"):
        layout.unpack(cache)


def test_hardlink_inside_the_image_shares_the_file(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([member("d", tarfile.DIRTYPE), ("d/f", b"x")]))
    layout.add(tar([member("g", tarfile.LNKTYPE, linkname="/d/f", mode=0o777)]))
    root = layout.unpack(cache)
    assert os.path.samefile(root / "d/f", root / "g")
    assert stat.S_IMODE((root / "g").stat().st_mode) == 0o644  # the link changed no mode


def test_setuid_and_setgid_bits_are_kept(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(
        tar(
            [
                member("bin", tarfile.DIRTYPE, mode=0o2775, uid=5, gid=6),
                member("bin/su", size=0, mode=0o4755, uid=0, gid=0),
                member("tmp", tarfile.DIRTYPE, mode=0o1777),
            ]
        )
    )
    root = layout.unpack(cache)
    assert stat.S_IMODE((root / "bin/su").stat().st_mode) == 0o4755
    assert stat.S_IMODE((root / "bin").stat().st_mode) == 0o2775
    assert stat.S_IMODE((root / "tmp").stat().st_mode) == 0o1777
    if os.geteuid() == 0:
        assert ((root / "bin").stat().st_uid, (root / "bin").stat().st_gid) == (5, 6)


def test_device_nodes_and_fifos_are_skipped_with_a_message(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cog.progress import NullProgress  # noqa: PLC0415

    said: list[str] = []

    class Recording(NullProgress):
        def info(self, message: str) -> None:
            said.append(message)

    layout = Layout(tmp_path / "layout").add(
        tar(
            [
                member("dev", tarfile.DIRTYPE),
                member("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0),
                member("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1),
                member("dev/pipe", tarfile.FIFOTYPE),
                ("ok", b"x"),
            ]
        )
    )
    root = unpacked_rootfs(load_image(layout.path, layout.write()), cache, Recording())
    assert sorted(os.listdir(root / "dev")) == []
    assert (root / "ok").read_bytes() == b"x"
    assert len(said) == 1
    assert "skipped 3 device node(s) or fifo(s)" in said[0]
    assert "dev/sda" in said[0]


def test_an_image_claiming_another_images_diff_ids_caches_nothing(
    tmp_path: Path, cache: Path
) -> None:
    trusted = Layout(tmp_path / "trusted").add(tar([("app", b"trusted")]))
    trusted_digest = trusted.write()
    hostile = Layout(tmp_path / "hostile").add(tar([("app", b"evil")]))
    claimed = [d for _, d in trusted.layers]
    actual = hostile.layers[0][1]
    with pytest.raises(RunError) as caught:
        hostile.unpack(cache, diff_ids=claimed)
    assert actual in caught.value.message
    assert claimed[0] in caught.value.message
    assert nothing_cached(cache)
    assert not any(p.name.startswith(".unpack-") for p in (cache / "rootfs").iterdir())
    root = unpacked_rootfs(load_image(trusted.path, trusted_digest), cache)
    assert (root / "app").read_bytes() == b"trusted"
    assert root.name == chain_id(tuple(claimed)).replace(":", "-")


def test_layer_count_and_diff_id_count_must_agree(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([("a", b"1")])).add(tar([("b", b"2")]))
    with pytest.raises(RunError, match="has 2 layers but its config names 1 diff_ids"):
        layout.unpack(cache, diff_ids=[layout.layers[0][1]])


def test_a_tampered_blob_is_refused(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([("a", b"1")]))
    digest = layout.write()
    blob = layout.path / "blobs" / "sha256" / layout.put(layout.layers[0][0])[7:]
    blob.write_bytes(gzip.compress(tar([("a", b"1")]), mtime=1))  # same size, other bytes
    with pytest.raises(RunError, match=r"has digest sha256:"):
        unpacked_rootfs(load_image(layout.path, digest), cache)
    assert nothing_cached(cache)


def test_a_blob_longer_than_its_descriptor_is_read_no_further(tmp_path: Path, cache: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([("a", b"1")]))
    digest = layout.write()
    blob = layout.path / "blobs" / "sha256" / layout.put(layout.layers[0][0])[7:]
    with blob.open("ab") as grow:
        grow.write(b"\0" * (8 * MiB))
    with pytest.raises(RunError, match=r"larger than the \d+ bytes its manifest says"):
        unpacked_rootfs(load_image(layout.path, digest), cache)


def _zeros_gzip(files: int, size: int) -> bytes:
    """A tar of ``files`` files of ``size`` zero bytes each, gzip-compressed piecewise."""
    packer = zlib.compressobj(9, wbits=31)
    out = []
    block = bytes(MiB)
    for index in range(files):
        info = tarfile.TarInfo(f"zeros{index}")
        info.size = size
        out.append(packer.compress(info.tobuf(tarfile.PAX_FORMAT)))
        for _ in range(size // MiB):
            out.append(packer.compress(block))
    out.append(packer.compress(bytes(1024)) + packer.flush())
    return b"".join(out)


@pytest.mark.parametrize(("files", "size"), [(1, 64 * MiB), (64, MiB)], ids=["one", "many"])
def test_a_gzip_bomb_is_refused_before_the_disk_fills(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, files: int, size: int
) -> None:
    monkeypatch.setattr(_layerstream, "RATIO_FLOOR_BYTES", MiB)
    bomb = _zeros_gzip(files, size)  # about 64 KiB for 64 MiB: a ratio near 1000
    layout = Layout(tmp_path / "layout")
    layout.layers.append((bomb, "sha256:" + "0" * 64))
    with pytest.raises(RunError, match="unpacks to more than") as caught:
        layout.unpack(cache)
    assert caught.value.hint is not None
    assert "COG_MAX_UNPACK_RATIO" in caught.value.hint
    assert nothing_cached(cache)


def test_the_total_unpacked_size_is_capped(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COG_MAX_UNPACKED_BYTES", str(3 * MiB))
    layout = Layout(tmp_path / "layout")
    for index in range(3):
        layout.add(tar([(f"f{index}", os.urandom(MiB + 1000))]))
    with pytest.raises(RunError, match="unpacks to more than"):
        layout.unpack(cache)
    assert nothing_cached(cache)


def test_unpack_limits_read_from_the_environment() -> None:
    limits = _layerstream.UnpackLimits.from_env(
        {"COG_MAX_UNPACKED_BYTES": "5000000000", "COG_MAX_UNPACK_RATIO": "10"}
    )
    assert limits.for_layer(1000 * MiB, used=0) == 5_000_000_000
    assert limits.for_layer(200 * MiB, used=0) == 2000 * MiB
    assert limits.for_layer(MiB, used=0) == _layerstream.RATIO_FLOOR_BYTES
    assert limits.for_layer(MiB, used=4_999_000_000) == 1_000_000
    with pytest.raises(RunError, match="COG_MAX_UNPACK_RATIO='lots'"):
        _layerstream.UnpackLimits.from_env({"COG_MAX_UNPACK_RATIO": "lots"})


def test_a_huge_extended_header_is_refused(tmp_path: Path, cache: Path) -> None:
    info = tarfile.TarInfo("x")
    info.type = tarfile.XHDTYPE
    info.size = 64 * MiB
    raw = info.tobuf(tarfile.USTAR_FORMAT) + bytes(64 * MiB) + bytes(1024)
    layout = Layout(tmp_path / "layout").add(raw)
    with pytest.raises(RunError, match="not a valid tar archive: a 67108864-byte extended"):
        layout.unpack(cache)


@pytest.fixture
def small_disk(tmp_path: Path) -> object:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_says_so_and_leaves_nothing(tmp_path: Path, small_disk: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([("big", os.urandom(4 * MiB))]))
    with pytest.raises(RunError, match=f"no space left on {small_disk}/rootfs") as caught:
        layout.unpack(small_disk)
    assert caught.value.hint is not None
    assert "COG_CACHE_DIR" in caught.value.hint
    assert os.listdir(small_disk / "rootfs") == []
