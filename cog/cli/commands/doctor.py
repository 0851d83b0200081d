"""`cog doctor`: diagnose (and with --fix, repair) common project problems."""

from __future__ import annotations

from pathlib import Path

import click

from cog.cli import _options
from cog.cli._capability import not_yet
from cog.cli._options import ProjectFile


@click.command("doctor")
@_options.config_file
@click.option("--fix", is_flag=True, help="Automatically apply fixes.")
def doctor_command(config_file: str, fix: bool) -> None:
    """Diagnose and fix common issues in your Cog project.

    By default, reports problems without modifying any files. Pass --fix to automatically
    apply safe fixes.
    """
    doctor(ProjectFile(Path(config_file)), fix=fix)


def doctor(project: ProjectFile, *, fix: bool) -> None:
    not_yet("doctor", "project diagnostics")
