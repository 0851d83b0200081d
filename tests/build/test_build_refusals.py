from __future__ import annotations

from pathlib import Path

import pytest

from cog.building import build_project
from cog.errors import LockError
from cog.progress import NullProgress
from cog.rules.cache import Cache


@pytest.mark.unit
def test_a_missing_lock_is_refused_with_the_command_to_run(tmp_path: Path) -> None:
    project = tmp_path / "model"
    project.mkdir()
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n')
    (project / "run.py").write_text(
        "from cog import BaseRunner\n\nclass Runner(BaseRunner):\n"
        "    def run(self) -> str:\n        return 'x'\n"
    )
    with pytest.raises(LockError) as err:
        build_project(
            project,
            tag=None,
            separate_weights=False,
            no_cache=False,
            progress=NullProgress(),
            cache=Cache(tmp_path / "cache"),
        )
    assert "cog lock" in str(err.value)
    assert not (project / ".cog" / "image").exists()
