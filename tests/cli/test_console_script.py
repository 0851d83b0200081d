"""The installed `cog` console script, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cog._version import __version__

COG = Path(sys.executable).parent / "cog"


def _cog(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [COG, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=60
    )


@pytest.mark.integration
def test_version() -> None:
    result = _cog("--version")
    assert result.returncode == 0
    assert result.stdout == f"cog version {__version__}\n"


@pytest.mark.integration
def test_error_has_no_traceback(tmp_path: Path) -> None:
    result = _cog("build", cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: cog.yaml: file not found\nRun `cog init` to create cog.yaml here, or pass "
        "-f/--file with the path to your config file.\n"
    )


@pytest.mark.integration
def test_init_then_schema(tmp_path: Path) -> None:
    init = _cog("init", cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    schema = _cog("schema", cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    document = json.loads(schema.stdout)
    assert set(document["components"]["schemas"]["Input"]["properties"]) == {"image", "scale"}


@pytest.mark.integration
def test_commands_load_lazily() -> None:
    # `cog --version`, `cog init` and `cog --help` start fast: the config model (pydantic)
    # is imported only by the commands that read cog.yaml.
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from cog.cli.main import cli\n"
        "CliRunner().invoke(cli, ['--version'])\n"
        "print('pydantic' in sys.modules)\n"
        "CliRunner().invoke(cli, ['build', '-h'])\n"
        "print('pydantic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout == "False\nTrue\n"
