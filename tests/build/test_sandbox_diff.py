from __future__ import annotations

import os
from pathlib import Path

import pytest

from cog.rules.sandbox import _snapshot, diff_entries


@pytest.mark.unit
def test_diff_has_changes_whiteouts_and_parents(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/keep").write_text("same")
    (root / "etc/gone").write_text("x")
    (root / "old").mkdir()
    (root / "old/inner").write_text("y")
    os.utime(root / "etc/keep", ns=(0, 0))
    before = _snapshot(root)
    (root / "etc/gone").unlink()
    (root / "old/inner").unlink()
    (root / "old").rmdir()
    (root / "usr/local/bin").mkdir(parents=True)
    (root / "usr/local/bin/tool").write_text("new")
    (root / "tmp").mkdir()
    (root / "tmp/junk").write_text("ignored")
    entries = {e.path: e for e in diff_entries(root, before, _snapshot(root), {"tmp"})}
    assert set(entries) == {
        "etc",
        "etc/.wh.gone",
        ".wh.old",
        "usr",
        "usr/local",
        "usr/local/bin",
        "usr/local/bin/tool",
    }
    assert entries["usr/local/bin/tool"].source == root / "usr/local/bin/tool"
