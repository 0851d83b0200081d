"""Each command reads cog.yaml once, however many steps (checks, lock, build) use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cog.building
import cog.config._parse
from cog.cli.main import cli
from cog.config import load_config
from cog.config._yaml import parse_yaml
from cog.errors import CogError
from cog.locking import inputs_checksum, lock_path
from cog.rules import lockfile_text
from cog.rules.lockfile import Lock, Target

pytestmark = pytest.mark.unit


@pytest.fixture
def parses(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A project with a current cog.lock; the filenames cog.yaml is parsed from."""
    (project / "cog.yaml").write_text('build:\n  python_version: "3.12"\n')
    checksum = inputs_checksum(project, load_config(project / "cog.yaml"))
    lock = Lock(
        inputs_sha256=checksum, target=Target(python_version="3.12", debian_suite="bookworm")
    )
    lock_path(project).write_text(lockfile_text.dumps(lock))
    seen: list[str] = []

    def counted(text: str, filename: str) -> Any:
        seen.append(filename)
        return parse_yaml(text, filename)

    def stop(*_: object, **__: object) -> None:  # the build's first step after the lock
        raise CogError("stop here")

    monkeypatch.setattr(cog.config._parse, "parse_yaml", counted)
    monkeypatch.setattr(cog.building, "Cache", stop)
    return seen


@pytest.mark.parametrize(
    "argv",
    [
        ["build"],
        ["push", "127.0.0.1:5000/me/model"],
        ["run", "-i", "n=1"],
        ["serve"],
        ["exec", "python"],
        ["lock", "--check"],
    ],
)
def test_a_command_parses_cog_yaml_once(
    parses: list[str], runner: CliRunner, argv: list[str]
) -> None:
    result = runner.invoke(cli, argv)
    if argv[0] == "lock":
        assert result.exit_code == 0, result.output
    else:  # it got as far as the build's cache: past the config and lock checks
        assert result.stderr == "error: stop here\n"
    assert parses == ["cog.yaml"]
