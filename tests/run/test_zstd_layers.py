"""zstd-compressed layers (podman's and buildx's zstd output): unpacked as gzip ones are,
with the same limits; a bomb, a corrupt stream or a frame needing a huge window refused."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from cog._container import _layerstream
from cog.errors import BuildError, RunError
from cog.rules import zstd
from cog.rules.layers import extract_layer
from tests.support.oci_layers import Layout, tar, zstd_compress

pytestmark = pytest.mark.unit

MiB = 1024 * 1024


def _zstd_children() -> list[int]:
    """The zstd processes this test process has left running."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, _, rest = stat.rpartition(")")
        if name.endswith("(zstd") and int(rest.split()[1]) == os.getpid():
            found.append(int(entry.name))
    return found


def test_zstd_and_gzip_layers_unpack_into_one_root(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout").add(tar([("a.txt", b"gzip"), ("b.txt", b"old")]))
    layout.add_zstd(tar([("b.txt", b"zstd"), ("big.bin", os.urandom(3 * MiB))]))
    root = layout.unpack(tmp_path / "cache")
    assert (root / "a.txt").read_bytes() == b"gzip"
    assert (root / "b.txt").read_bytes() == b"zstd"
    assert (root / "big.bin").stat().st_size == 3 * MiB
    assert _zstd_children() == []


def test_a_zstd_layer_whose_content_is_not_its_diff_id_is_refused(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "layout").add_zstd(tar([("app", b"evil")]))
    claimed = "sha256:" + "1" * 64
    with pytest.raises(RunError, match=f"diff_id is {claimed}"):
        layout.unpack(tmp_path / "cache", diff_ids=[claimed])


def test_a_zstd_bomb_is_refused_and_zstd_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_layerstream, "RATIO_FLOOR_BYTES", MiB)
    info = tarfile.TarInfo("zeros")
    info.size = 256 * MiB
    # A tar header and 256 MiB of zeros: zstd makes that a few KiB.
    bomb = zstd_compress(info.tobuf(tarfile.PAX_FORMAT) + bytes(info.size) + bytes(1024), "-19")
    assert len(bomb) < 64 * 1024
    layout = Layout(tmp_path / "layout")
    layout.layers.append((bomb, "sha256:" + "0" * 64))
    cache = tmp_path / "cache"
    with pytest.raises(RunError, match="unpacks to more than"):
        layout.unpack(cache)
    assert not (cache / "rootfs").exists() or not any((cache / "rootfs").iterdir())
    assert _zstd_children() == []


def test_a_corrupt_zstd_stream_is_a_clear_error(tmp_path: Path) -> None:
    good = zstd_compress(tar([("a", os.urandom(MiB))]))
    broken = good[: len(good) // 2] + bytes(64) + good[len(good) // 2 + 64 :]
    layout = Layout(tmp_path / "layout")
    layout.layers.append((broken, "sha256:" + "0" * 64))
    with pytest.raises(RunError, match=r"layer sha256:[0-9a-f]{64} is not valid zstd"):
        layout.unpack(tmp_path / "cache")
    assert _zstd_children() == []


def test_a_frame_that_needs_a_2_gib_window_is_refused(tmp_path: Path) -> None:
    # --long=31 asks the decoder for a 2 GiB window; zstd's default limit is 128 MiB.
    huge_window = zstd_compress(tar([("a", b"x" * 1000)]), "--long=31")
    layout = Layout(tmp_path / "layout")
    layout.layers.append((huge_window, "sha256:" + "0" * 64))
    with pytest.raises(RunError, match=r"is not valid zstd: .*(memory|window)"):
        layout.unpack(tmp_path / "cache")


def test_a_build_extracts_a_zstd_base_layer(tmp_path: Path) -> None:
    blob = tmp_path / "blob"
    blob.write_bytes(zstd_compress(tar([("etc/os-release", b"ID=debian\n"), ("gone", b"")])))
    extract_layer(blob, tmp_path / "root")
    assert (tmp_path / "root" / "etc" / "os-release").read_bytes() == b"ID=debian\n"
    broken = tmp_path / "broken"
    broken.write_bytes(blob.read_bytes()[:-8])
    with pytest.raises(BuildError, match="is not valid zstd"):
        extract_layer(broken, tmp_path / "other")


def test_the_reader_raises_what_its_source_raised() -> None:
    class Failing:
        def read(self, n: int = -1, /) -> bytes:
            raise RunError("layer blob is larger than the 10 bytes its manifest says")

    def drain(reader: zstd.ZstdReader) -> None:
        while reader.read(4096):
            pass

    reader = zstd.ZstdReader(Failing(), "layer x", RunError, RunError)
    try:
        with pytest.raises(RunError, match="larger than the 10 bytes"):
            drain(reader)
    finally:
        reader.close()
