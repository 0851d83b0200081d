"""A full disk ends any command with "no space left on …", never "unexpected OSError"."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cog.cli._failure import disk_full
from cog.cli.main import cli
from cog.rules.cache import Cache


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "full"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], check=True)
    try:
        with pytest.raises(OSError, match="No space"):
            (mount / "filler").write_bytes(bytes(128 * 1024))
        monkeypatch.chdir(mount)
        yield mount
    finally:
        monkeypatch.chdir(tmp_path)
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.integration
def test_a_command_writing_to_a_full_disk_says_so(full_disk: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init"], env={"COG_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 1
    assert "error: no space left on " in result.stderr
    assert "unexpected" not in result.stderr
    assert "--debug" not in result.stderr
    assert str(tmp_path / "cache") in result.stderr


@pytest.mark.unit
def test_the_path_is_named_when_known_and_the_chain_is_searched() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "/data/blob")
    found = disk_full(full)
    assert found is not None
    assert found.message == "no space left on /data/blob"
    wrapped = RuntimeError("while writing")
    wrapped.__cause__ = full
    assert disk_full(wrapped) is not None
    looped = OSError(errno.EACCES, "Permission denied")
    looped.__cause__ = looped  # what `raise err from err` leaves
    assert disk_full(looped) is None


def _write_half_a_megabyte(cache: Cache) -> None:
    with cache.writer() as out:
        for _ in range(64):
            out.write(bytes(8192))


@pytest.mark.integration
def test_a_full_cache_disk_names_the_cache(full_disk: Path) -> None:
    (full_disk / "filler").unlink()
    cache = Cache(full_disk)
    (full_disk / "filler").write_bytes(bytes(32 * 1024))
    with pytest.raises(OSError, match="No space") as caught:
        _write_half_a_megabyte(cache)
    found = disk_full(caught.value)
    assert found is not None
    assert found.message == f"no space left on {full_disk}"
    assert list((full_disk / "tmp").iterdir()) == []
