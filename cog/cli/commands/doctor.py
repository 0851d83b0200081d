"""`cog doctor`: diagnose (and with --fix, repair) common project problems."""

from __future__ import annotations

from pathlib import Path

import click

from cog.cli import _options
from cog.cli._options import ProjectFile
from cog.doctor import diagnose
from cog.errors import CogError


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
    failed = 0
    for finding in diagnose(project.config_path):
        if not finding.ok and fix and finding.fix is not None:
            click.echo(f"fixed  {finding.check}: {finding.fix()}")
            continue
        mark = "ok    " if finding.ok else "FAILED"
        click.echo(f"{mark} {finding.check}: {finding.message}")
        if finding.hint:
            click.echo(f"       {finding.hint}")
        failed += not finding.ok
    if failed:
        raise CogError(
            f"cog doctor found {failed} problem{'s' if failed > 1 else ''}",
            "Fix them as shown above" + ("" if fix else ", or run `cog doctor --fix`."),
        )
