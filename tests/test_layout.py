"""The installed layout: one top-level import name, rules and runtime mapped under it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.unit
@pytest.mark.parametrize(
    ("module", "directory"),
    [("cog.rules", "rules"), ("cog.runtime", "runtime"), ("cog.third_party", "third_party")],
)
def test_top_level_directories_install_under_cog(module: str, directory: str) -> None:
    imported = importlib.import_module(module)
    assert imported.__file__ is not None
    assert Path(imported.__file__).resolve().parent == ROOT / directory


@pytest.mark.unit
def test_cog_is_the_only_top_level_name(tmp_path: Path) -> None:
    # Run from an unrelated directory, as a user's model would, so the checkout itself is
    # not on sys.path: only what the installed distribution provides is importable.
    probe = (
        "import importlib.util as u, json; "
        "print(json.dumps({n: u.find_spec(n) is not None "
        "for n in ['cog', 'rules', 'runtime', 'third_party']}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == '{"cog": true, "rules": false, "runtime": false, "third_party": false}'
