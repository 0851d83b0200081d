"""Errors end a command with one message and a hint on stderr: no traceback without --debug."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cog.cli.commands import doctor
from cog.cli.main import cli

BAD_YAML = "build:\n  gpu: maybe\n"
BAD_YAML_ERROR = (
    "error: cog.yaml:2: build.gpu must be true or false, got the string 'maybe'\n"
    "Write it as true or false, for example:\n  build:\n    gpu: true\n"
)


@pytest.mark.unit
@pytest.mark.parametrize(
    "argv",
    [
        ["build"],
        ["push", "127.0.0.1:1/m"],
        ["run", "-i", "a=b"],
        ["predict"],
        ["train"],
        ["serve"],
        ["serve", "--local"],
        ["exec", "python"],
        ["lock"],
        ["schema"],
    ],
)
def test_config_error_is_checked_first(project: Path, runner: CliRunner, argv: list[str]) -> None:
    (project / "cog.yaml").write_text(BAD_YAML)
    result = runner.invoke(cli, argv)
    assert result.exit_code == 1
    assert result.stdout == ""
    warning = DEPRECATED.get(argv[0], "")
    assert result.stderr == warning + BAD_YAML_ERROR


DEPRECATED = {
    "predict": 'Command "predict" is deprecated, use "cog run" instead\n',
    "train": 'Command "train" is deprecated, the train command will be removed in a future '
    "version of Cog\n",
}


@pytest.mark.unit
def test_file_flag_names_another_config(project: Path, runner: CliRunner) -> None:
    (project / "sub").mkdir()
    (project / "sub" / "other.yaml").write_text(BAD_YAML)
    result = runner.invoke(cli, ["build", "-f", "sub/other.yaml"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: sub/other.yaml:2: build.gpu must be")


@pytest.mark.unit
def test_debug_adds_the_traceback(project: Path, runner: CliRunner) -> None:
    (project / "cog.yaml").write_text(BAD_YAML)
    result = runner.invoke(cli, ["--debug", "build"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert result.stderr.endswith(BAD_YAML_ERROR)
    assert "cog.errors.ConfigError" in result.stderr


def _crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("disk on fire")


@pytest.mark.unit
def test_unexpected_exception_is_one_line(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor, "doctor", _crash)
    result = runner.invoke(cli, ["doctor"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected RuntimeError: disk on fire\nrun with --debug for the traceback\n"
    )
    debug = runner.invoke(cli, ["--debug", "doctor"])
    assert debug.exit_code == 1
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert debug.stderr.endswith("error: unexpected RuntimeError: disk on fire\n")


@pytest.mark.unit
def test_interrupt_exits_130(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(doctor, "doctor", interrupted)
    result = runner.invoke(cli, ["doctor"])
    assert result.exit_code == 130
    assert result.stderr == "interrupted\n"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("argv", "env", "colored"),
    [
        (["build"], {}, True),
        (["--no-color", "build"], {}, False),
        (["build"], {"NO_COLOR": "1"}, False),
        (["build"], {"COG_NO_COLOR": "1"}, False),
    ],
)
def test_color_follows_flag_and_environment(
    project: Path, runner: CliRunner, argv: list[str], env: dict[str, str], colored: bool
) -> None:
    # color=True makes CliRunner behave like a terminal that shows colour.
    result = runner.invoke(cli, argv, env=env, color=True)
    assert result.exit_code == 1
    assert ("\x1b[" in result.stderr) is colored
    assert "error:" in result.stderr


@pytest.mark.unit
def test_usage_errors_exit_2(project: Path, runner: CliRunner) -> None:
    result = runner.invoke(cli, ["build", "--progress", "loud"])
    assert result.exit_code == 2
    assert "Invalid value for '--progress'" in result.stderr
