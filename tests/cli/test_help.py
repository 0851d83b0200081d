"""`--help` of every command lists the reference's flags (and ours)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cog._version import __version__
from cog.cli.main import cli

BASE_IMAGE = ("--use-cog-base-image", "--use-cuda-base-image")
BUILD = (
    "-f, --file",
    "--no-cache",
    "--openapi-schema",
    "--progress",
    "--secret",
    "--separate-weights",
    *BASE_IMAGE,
)
RUN = (
    "-e, --env",
    "-f, --file",
    "--gpus",
    "-i, --input",
    "--json",
    "-o, --output",
    "--progress",
    "--setup-timeout",
    "--use-replicate-token",
    *BASE_IMAGE,
)
FLAGS: dict[str, tuple[str, ...]] = {
    "build": (*BUILD, "-t, --tag"),
    "push": BUILD,
    "run": RUN,
    "predict": RUN,
    "train": RUN,
    "serve": (
        "-f, --file",
        "--gpus",
        "-p, --port",
        "--progress",
        "--upload-url",
        "--local",
        "-e, --env",
        *BASE_IMAGE,
    ),
    "exec": ("-e, --env", "-f, --file", "--gpus", "--progress", "-p, --publish", *BASE_IMAGE),
    "init": (),
    "lock": ("-f, --file", "--check", "--upgrade", "--platform", "--progress"),
    "pull": ("--platform", "--progress"),
    "login": ("--token-stdin", "--password-stdin", "-u, --username"),
    "doctor": ("-f, --file", "--fix"),
    "schema": ("-f, --file",),
}


@pytest.mark.unit
@pytest.mark.parametrize("command", sorted(FLAGS))
def test_help_lists_the_reference_flags(command: str) -> None:
    for argv in ([command, "--help"], [command, "-h"]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 0, result.output
        assert f"Usage: cli {command}" in result.output
        for flag in (*FLAGS[command], "-h, --help"):
            assert flag in result.output, f"{command} --help lacks {flag}"


@pytest.mark.unit
def test_top_level_help_and_options() -> None:
    result = CliRunner().invoke(cli, ["-h"])
    assert result.exit_code == 0
    for flag in ("--version", "--debug", "--no-color", "-h, --help"):
        assert flag in result.output
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line}
    # predict and train are deprecated: hidden from the list, as the reference hides them.
    assert listed == set(FLAGS) - {"predict", "train"}


@pytest.mark.unit
def test_serve_port_defaults_to_8393() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    line = next(line for line in result.output.splitlines() if "--port" in line)
    assert "8393" in line


@pytest.mark.unit
def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"cog version {__version__}\n"
