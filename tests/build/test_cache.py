from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cog.errors import FetchError
from cog.rules._files import default_cache_root
from cog.rules.cache import Cache, LayerRecord


@pytest.mark.unit
def test_default_root_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COG_CACHE_DIR", str(tmp_path / "a"))
    assert default_cache_root() == tmp_path / "a"
    monkeypatch.delenv("COG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert default_cache_root() == tmp_path / "x" / "cog"


@pytest.mark.unit
def test_a_verified_write_becomes_a_blob(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    digest = hashlib.sha256(b"hello").hexdigest()
    assert cache.blob_path(digest) is None
    with cache.writer(digest) as w:
        w.write(b"hel")
        w.write(b"lo")
    blob = cache.blob_path(digest)
    assert blob is not None
    assert blob.read_bytes() == b"hello"
    assert list(cache.tmp.iterdir()) == []


@pytest.mark.unit
def test_a_mismatch_keeps_nothing_and_names_both_digests(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    wanted = "0" * 64

    def write_other() -> None:
        with cache.writer(wanted, what="pkg.deb") as w:
            w.write(b"other")

    with pytest.raises(FetchError) as err:
        write_other()
    actual = hashlib.sha256(b"other").hexdigest()
    assert "pkg.deb" in err.value.message
    assert wanted in err.value.message
    assert actual in err.value.message
    assert cache.blob_path(actual) is None
    assert list(cache.tmp.iterdir()) == []


@pytest.mark.unit
def test_an_interrupted_write_leaves_no_blob(tmp_path: Path) -> None:
    cache = Cache(tmp_path)

    def interrupted() -> None:
        with cache.writer() as w:
            w.write(b"partial")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []
    assert list(cache.tmp.iterdir()) == []


@pytest.mark.unit
def test_a_temp_file_left_by_a_killed_build_is_never_a_blob(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    digest = hashlib.sha256(b"x").hexdigest()
    (cache.tmp / f"123-{digest}.partial").write_bytes(b"x")
    assert cache.blob_path(digest) is None
    assert cache.put_file(cache.tmp / f"123-{digest}.partial", digest).read_bytes() == b"x"


@pytest.mark.unit
def test_layer_records_need_their_blob(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    digest = cache.put_bytes(b"layer")
    record = LayerRecord(digest=digest, diff_id="1" * 64, size=5, description="d")
    key = "a" * 64
    assert cache.get_layer(key) is None
    cache.put_layer(key, record)
    assert cache.get_layer(key) == record
    (tmp_path / "blobs" / "sha256" / digest).unlink()
    assert cache.get_layer(key) is None


@pytest.mark.unit
def test_file_digests_are_memoised_by_identity(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c")
    f = tmp_path / "w.bin"
    f.write_bytes(b"one")
    os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    assert cache.file_sha256(f) == hashlib.sha256(b"one").hexdigest()
    f.write_bytes(b"two")
    os.utime(f, ns=(2_000_000_000, 2_000_000_000))
    assert cache.file_sha256(f) == hashlib.sha256(b"two").hexdigest()


@pytest.mark.unit
def test_two_writers_of_one_blob_both_succeed(tmp_path: Path) -> None:
    payload = bytes(range(256)) * 40000
    digest = hashlib.sha256(payload).hexdigest()
    caches = [Cache(tmp_path), Cache(tmp_path)]
    barrier = threading.Barrier(2)

    def write(cache: Cache) -> None:
        with cache.writer(digest) as w:
            w.write(payload[:1000])
            barrier.wait()
            w.write(payload[1000:])

    threads = [threading.Thread(target=write, args=(c,)) for c in caches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    blob = caches[0].blob_path(digest)
    assert blob is not None
    assert blob.read_bytes() == payload
    assert list(caches[0].tmp.iterdir()) == []


_KILLED_WRITER = """
import sys, time
from pathlib import Path
from cog.rules.cache import Cache
cache = Cache(Path(sys.argv[1]))
with cache.writer() as w:
    w.write(b"x" * 100000)
    w.flush()
    print("writing", flush=True)
    time.sleep(60)
"""


@pytest.mark.integration
def test_a_build_killed_mid_write_leaves_no_blob_and_the_cache_works(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "writing\n"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    cache = Cache(tmp_path)
    assert list((tmp_path / "blobs" / "sha256").iterdir()) == []
    assert [p.suffix for p in cache.tmp.iterdir()] == [".partial"]
    digest = cache.put_bytes(b"x" * 100000)
    assert cache.blob_path(digest) is not None
    old = time.time() - 3 * 24 * 3600
    for leftover in cache.tmp.iterdir():
        os.utime(leftover, (old, old))
    cache.sweep_stale_temps()
    assert list(cache.tmp.iterdir()) == []
