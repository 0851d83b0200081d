"""The cache of wheels built from sdists: a hit is taken as is; a rebuild that gives other
bytes than the cached wheel is reported as a build that is not bit-reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cog.progress import NullProgress
from cog.rules.cache import Cache
from cog.rules.lockfile import Lock, Sdist, Target
from cog.rules.sdist_build import BuiltWheel, SdistBuilder

SDIST = Sdist(name="z", version="1", filename="z-1.tar.gz", sha256="d" * 64, size=1)


class _Recorder(NullProgress):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, message: str) -> None:
        self.messages.append(message)


def _builder(cache: Cache, progress: _Recorder) -> SdistBuilder:
    target = Target(python_version="3.11", debian_suite="bookworm")
    lock = Lock(inputs_sha256="a" * 64, target=target, sdist=(SDIST,))
    return SdistBuilder(
        lock,
        cache,
        lambda items: [],
        progress,
        interpreter=("debian", lambda: None),
        mtime=0,
    )


@pytest.mark.unit
def test_a_cached_wheel_is_reused_and_a_differing_rebuild_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache, progress = Cache(tmp_path), _Recorder()
    builder = _builder(cache, progress)
    (key,) = builder.keys()
    first = cache.put_bytes(b"the first build")
    record = cache.root / "sdist-wheels" / f"{key}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"filename": "z-1-py3-none-any.whl", "sha256": first, "size": 15}))
    builds: list[str] = []

    def rebuild(sdist: Sdist, key: str) -> BuiltWheel:
        builds.append(key)
        return BuiltWheel("z-1-py3-none-any.whl", cache.put_bytes(b"another build"), 13)

    monkeypatch.setattr(builder, "_build", rebuild)
    assert builder.wheels(reuse=True) == [cache.blob_path(first)]
    assert builds == []
    assert progress.messages == []
    (path,) = builder.wheels(reuse=False)
    assert builds == [key]
    assert path.read_bytes() == b"another build"
    (message,) = progress.messages
    assert "z 1" in message
    assert "not bit-reproducible" in message
