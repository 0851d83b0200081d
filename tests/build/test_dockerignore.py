from __future__ import annotations

from pathlib import Path

import pytest

from cog.rules.dockerignore import project_files


def _tree(root: Path, files: list[str]) -> None:
    for rel in files:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rel)


@pytest.mark.unit
def test_never_included_whatever_the_ignore_file_says(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "run.py",
            ".git/config",
            ".cog/image/index.json",
            "pkg/__pycache__/m.cpython-311.pyc",
            "venv/pyvenv.cfg",
            "venv/lib/site.py",
            "pkg/m.py",
        ],
    )
    (tmp_path / ".dockerignore").write_text("!.git\n")
    assert list(project_files(tmp_path)) == [".dockerignore", "pkg/m.py", "run.py"]


@pytest.mark.unit
def test_patterns_negation_and_double_star(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        [
            "run.py",
            "data/a.csv",
            "data/keep.csv",
            "notes.md",
            "docs/x/readme.md",
            "weights/big.bin",
            "[x].txt",
        ],
    )
    (tmp_path / ".dockerignore").write_text(
        "# comment\n/data\n!data/keep.csv\n**/*.md\nweights/\n\\[x\\].txt\n"
    )
    assert list(project_files(tmp_path)) == [".dockerignore", "data/keep.csv", "run.py"]


@pytest.mark.unit
def test_skip_leaves_out_files_in_their_own_layers(tmp_path: Path) -> None:
    _tree(tmp_path, ["run.py", "weights/w.bin"])
    assert list(project_files(tmp_path, skip=frozenset({"weights/w.bin"}))) == ["run.py"]


@pytest.mark.unit
def test_character_classes(tmp_path: Path) -> None:
    _tree(tmp_path, ["a1.log", "b2.log", "c.log"])
    (tmp_path / ".dockerignore").write_text("[ab][0-9].log\n.dockerignore\n")
    assert list(project_files(tmp_path)) == ["c.log"]
