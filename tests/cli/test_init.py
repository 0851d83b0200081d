"""`cog init` writes a project that loads, and never overwrites one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from cog.cli.main import cli
from cog.config import load_config

WRITTEN = ("cog.yaml", "run.py", ".dockerignore", "requirements.txt")


@pytest.mark.unit
def test_init_writes_a_project_that_loads(project: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in project.iterdir()) == sorted(WRITTEN)
    for name in WRITTEN:
        assert f"Created {name}\n" in result.stderr
    config = load_config(project / "cog.yaml")
    assert config.predict == "run.py:Runner"
    assert config.build.python_version == "3.13"
    assert config.build.python_requirements == "requirements.txt"
    assert config.requirements() == ()
    tree = ast.parse((project / "run.py").read_text())
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef)]
    assert [c.name for c in classes] == ["Runner"]
    assert [b.id for b in classes[0].bases if isinstance(b, ast.Name)] == ["BaseRunner"]
    assert ".cog\n" in (project / ".dockerignore").read_text()
    # The cog.yaml is annotated for the user.
    assert (project / "cog.yaml").read_text().count("#") >= 5


@pytest.mark.unit
@pytest.mark.parametrize("existing", ["cog.yaml", "run.py"])
def test_init_refuses_to_overwrite(project: Path, runner: CliRunner, existing: str) -> None:
    (project / existing).write_text("mine\n")
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {project / existing} already exists; nothing was written\n"
        f"Edit the existing {existing}, or move it away and run `cog init` again.\n"
    )
    assert [p.name for p in project.iterdir()] == [existing]
    assert (project / existing).read_text() == "mine\n"


@pytest.mark.unit
def test_init_keeps_an_existing_requirements_file(project: Path, runner: CliRunner) -> None:
    (project / "requirements.txt").write_text("torch==2.6.0\n")
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0
    assert "Kept existing requirements.txt\n" in result.stderr
    assert load_config(project / "cog.yaml").requirements() == ("torch==2.6.0",)
