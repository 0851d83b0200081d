from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from cog.rules.cache import Cache
from cog.rules.tar import Entry, write_layer, write_tar


def _entries(tmp_path: Path) -> list[Entry]:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096)
    return [
        Entry("usr", "dir", 0o755),
        Entry("usr/bin", "dir", 0o755),
        Entry("usr/bin/tool", "file", 0o755, data=b"#!/bin/sh\n"),
        Entry("var/local", "dir", 0o2775, 0, 50),
        Entry("var", "dir", 0o755),
        Entry("usr/lib/" + "x" * 150, "file", 0o644, source=big),
        Entry("usr/bin/link", "symlink", 0o777, linkname="tool"),
        Entry("usr-x", "file", 0o600, data=b"later in order"),
    ]


def _tar(entries: list[Entry], mtime: int = 0) -> bytes:
    out = io.BytesIO()
    write_tar(entries, out, mtime=mtime)
    return out.getvalue()


@pytest.mark.unit
def test_same_entries_in_any_order_give_the_same_bytes(tmp_path: Path) -> None:
    entries = _entries(tmp_path)
    assert _tar(entries) == _tar(list(reversed(entries)))


@pytest.mark.unit
def test_members_are_sorted_normalised_and_keep_numeric_owners(tmp_path: Path) -> None:
    data = _tar(_entries(tmp_path), mtime=1234)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names[:4] == ["usr", "usr/bin", "usr/bin/link", "usr/bin/tool"]
    assert names[-3:] == ["usr-x", "var", "var/local"]
    assert {m.mtime for m in members} == {1234}
    assert {(m.uname, m.gname) for m in members} == {("", "")}
    local = next(m for m in members if m.name == "var/local")
    assert (local.uid, local.gid, local.mode) == (0, 50, 0o2775)
    long = next(m for m in members if m.name.startswith("usr/lib/"))
    assert long.size == 256 * 4096
    for m in members:
        assert "atime" not in m.pax_headers
        assert "ctime" not in m.pax_headers


@pytest.mark.unit
def test_duplicate_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _tar([Entry("a", "dir", 0o755), Entry("a", "dir", 0o700)])


@pytest.mark.unit
def test_gzip_layer_is_deterministic_with_a_fixed_header(tmp_path: Path) -> None:
    entries = _entries(tmp_path)
    first = write_layer(entries, Cache(tmp_path / "c1"), "layer")
    second = write_layer(list(reversed(entries)), Cache(tmp_path / "c2"), "layer")
    assert first == second
    blob = (tmp_path / "c1" / "blobs" / "sha256" / first.digest).read_bytes()
    assert hashlib.sha256(blob).hexdigest() == first.digest
    assert len(blob) == first.size
    # gzip header: magic, deflate, no flags (no file name), mtime 0.
    assert blob[:4] == b"\x1f\x8b\x08\x00"
    assert blob[4:8] == b"\x00\x00\x00\x00"
    assert hashlib.sha256(gzip.decompress(blob)).hexdigest() == first.diff_id
    assert gzip.decompress(blob) == _tar(entries)
