"""Fetching a suite: gpgv-verified InRelease, by-hash Packages.xz, the parsed-index cache.

Runs against a signed file:// archive in tests/fixtures/lock (make_archive.py), with gpgv.
"""

from __future__ import annotations

import shutil
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cog.errors import LockError
from cog.rules.debian.index import SuiteSource, check_valid_until, fetch_suite

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lock"
KEYRING = str(FIXTURES / "keyring.gpg")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    copy = tmp_path / "archive"
    shutil.copytree(FIXTURES / "archive", copy)
    return copy


def _source(archive: Path, suite: str = "bookworm") -> SuiteSource:
    return SuiteSource(archive.as_uri(), suite, ("main", "contrib"), KEYRING, "COG_DEBIAN_MIRROR")


@pytest.mark.integration
def test_fetch_verifies_parses_and_caches(archive: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    packages = fetch_suite(_source(archive), "amd64", cache)
    assert {p.name for p in packages} >= {"libc6", "libgcc-s1", "zlib1g"}
    assert all(p.suite == "bookworm" for p in packages)
    assert len(list((cache / "debian-index").iterdir())) == 1
    # Warm: the Packages index itself is no longer read, only the signed InRelease.
    for xz in (archive / "dists" / "bookworm").rglob("Packages.xz"):
        xz.unlink()
    for blob in (archive / "dists" / "bookworm").rglob("by-hash/SHA256/*"):
        blob.unlink()
    again = fetch_suite(_source(archive), "amd64", cache)
    assert again == packages


@pytest.mark.integration
def test_empty_suite_is_fine(archive: Path, tmp_path: Path) -> None:
    assert fetch_suite(_source(archive, "bookworm-updates"), "amd64", tmp_path) == []


@pytest.mark.integration
def test_bad_signature_is_refused(archive: Path, tmp_path: Path) -> None:
    inrelease = archive / "dists" / "bookworm" / "InRelease"
    inrelease.write_text(inrelease.read_text().replace("Origin: Test", "Origin: Evil"))
    with pytest.raises(LockError, match="does not verify against"):
        fetch_suite(_source(archive), "amd64", tmp_path)


@pytest.mark.integration
def test_index_not_matching_inrelease_is_refused(archive: Path, tmp_path: Path) -> None:
    for blob in (archive / "dists" / "bookworm").rglob("by-hash/SHA256/*"):
        blob.write_bytes(b"not the index")
    with pytest.raises(LockError, match="does not match the size and sha256"):
        fetch_suite(_source(archive), "amd64", tmp_path)


@pytest.mark.integration
def test_missing_arch_names_the_setting(archive: Path, tmp_path: Path) -> None:
    with pytest.raises(LockError, match="no Packages index for arm64") as info:
        fetch_suite(_source(archive), "arm64", tmp_path)
    assert info.value.hint is not None
    assert "COG_DEBIAN_MIRROR" in info.value.hint


@pytest.mark.integration
def test_unreachable_mirror_fails_fast_naming_the_setting(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    source = SuiteSource(f"http://127.0.0.1:{port}/debian", "bookworm", ("main",), KEYRING, "X")
    started = time.monotonic()
    with pytest.raises(LockError, match=r"cannot read the Debian suite bookworm .*set in X"):
        fetch_suite(source, "amd64", tmp_path)
    assert time.monotonic() - started < 10


@pytest.mark.unit
def test_expired_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    release = "Suite: bookworm-security\nValid-Until: Sat, 28 Nov 2026 00:53:02 UTC\n"
    before = datetime(2026, 11, 27, tzinfo=UTC)
    after = datetime(2026, 11, 29, tzinfo=UTC)
    check_valid_until(release, "u", before)
    with pytest.raises(LockError, match=r"u expired on Sat, 28 Nov 2026") as info:
        check_valid_until(release, "u", after)
    assert info.value.hint is not None
    assert "COG_DEBIAN_ALLOW_EXPIRED" in info.value.hint
    monkeypatch.setenv("COG_DEBIAN_ALLOW_EXPIRED", "1")
    check_valid_until(release, "u", after)
    check_valid_until("Suite: bookworm\n", "u", after)
