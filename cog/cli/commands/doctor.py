"""`cog doctor`: diagnose (and with --fix, repair) common project problems."""

from __future__ import annotations

from pathlib import Path

import click

from cog._diagnosis.diagnose import Finding, diagnose
from cog.cli import _options
from cog.cli._options import ProjectFile
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
    """Each finding on stderr (where the reference writes them); non-zero on a problem.

    Warnings are said but do not fail; with --fix each finding that has a fix gets it.
    """
    failed = 0
    for finding in diagnose(project.config_path):
        shown = _fixed(finding) if fix and not finding.ok and finding.fix else finding
        if shown is not None:
            _report(shown)
            failed += shown.failed
    if failed:
        raise CogError(
            f"cog doctor found {failed} problem{'s' if failed > 1 else ''}",
            "Fix them as shown above" + ("" if fix else ", or run `cog doctor --fix`."),
        )


def _fixed(finding: Finding) -> Finding | None:
    """Applies the fix and says so (None), or what stopped it."""
    assert finding.fix is not None
    try:
        done = finding.fix()
    except CogError as error:
        return Finding(finding.check, False, f"could not fix: {error.message}", error.hint)
    click.echo(f"fixed  {finding.check}: {finding.where}{done}", err=True)
    return None


def _report(finding: Finding) -> None:
    mark = "ok    " if finding.ok else "WARN  " if finding.warning else "FAILED"
    click.echo(f"{mark} {finding.check}: {finding.where}{finding.message}", err=True)
    if finding.hint:
        click.echo(f"       {finding.hint}", err=True)
