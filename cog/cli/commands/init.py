"""`cog init`: a cog.yaml and run.py to start from."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from cog.errors import CogError

# (template, file written); the first two are the project and are never overwritten, the
# others are kept as they are when they already exist (a project's own requirements.txt).
_PROJECT_FILES = (("cog.yaml.tmpl", "cog.yaml"), ("run.py.tmpl", "run.py"))
_SUPPORT_FILES = (
    ("dockerignore.tmpl", ".dockerignore"),
    ("requirements.txt.tmpl", "requirements.txt"),
)


@click.command("init")
def init_command() -> None:
    """Create a cog.yaml and run.py in the current directory.

    These files provide a starting template for defining your model's environment and run
    interface. Edit them to match your model's requirements.
    """
    init_project(Path.cwd())


def init_project(directory: Path) -> None:
    for _, name in _PROJECT_FILES:
        if (directory / name).exists():
            raise CogError(
                f"{directory / name} already exists; nothing was written",
                f"Edit the existing {name}, or move it away and run `cog init` again.",
            )
    click.echo("Setting up the current directory for use with Cog...", err=True)
    templates = resources.files("cog._templates")
    for template, name in (*_PROJECT_FILES, *_SUPPORT_FILES):
        target = directory / name
        if target.exists():
            click.echo(f"Kept existing {name}", err=True)
            continue
        target.write_text(
            templates.joinpath(template).read_text(encoding="utf-8"), encoding="utf-8"
        )
        click.echo(f"Created {name}", err=True)
    click.echo(
        "Done! Add your dependencies to requirements.txt and your model to run.py, then run "
        "`cog lock` and `cog build`.",
        err=True,
    )
