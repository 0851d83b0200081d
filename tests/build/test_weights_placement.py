from __future__ import annotations

from pathlib import Path

import pytest

from cog.building import _weights_paths, default_tag
from cog.config import load_config
from cog.errors import BuildError
from cog.rules.lockfile import Lock, Target, WeightsFile


def _lock(*paths: str) -> Lock:
    return Lock(
        inputs_sha256="0" * 64,
        target=Target(python_version="3.11", debian_suite="bookworm"),
        weights=tuple(WeightsFile(path=p, sha256="1" * 64, size=1) for p in paths),
    )


@pytest.mark.unit
def test_weights_go_to_their_target_or_under_src(tmp_path: Path) -> None:
    (tmp_path / "weights/sub").mkdir(parents=True)
    (tmp_path / "weights/sub/a.bin").write_bytes(b"a")
    (tmp_path / "extra.bin").write_bytes(b"b")
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\nweights:\n'
        "  - source: weights\n    target: /models/w\n  - extra.bin\n"
    )
    config = load_config(tmp_path / "cog.yaml")
    placed = _weights_paths(_lock("weights/sub/a.bin", "extra.bin"), config)
    assert placed == (("extra.bin", "src/extra.bin"), ("weights/sub/a.bin", "models/w/sub/a.bin"))


@pytest.mark.unit
def test_separate_weights_without_weights_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\n')
    with pytest.raises(BuildError, match="weights"):
        _weights_paths(_lock(), load_config(tmp_path / "cog.yaml"))


@pytest.mark.unit
def test_default_tag_is_cog_and_the_directory() -> None:
    assert default_tag(Path("/x/My Model")) == "cog-my-model"
