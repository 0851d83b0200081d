"""`cog schema`: the model's OpenAPI document, from its source."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cog.cli import _options
from cog.cli._options import ProjectFile
from cog.config import load_config
from cog.errors import ConfigError


@click.command("schema")
@_options.config_file
def schema_command(config_file: str) -> None:
    """Print the model's OpenAPI schema.

    The document the server serves at /openapi.json, generated from the source. When the
    source alone does not decide it (choices or types from an installed package), only
    the built image can: this says so, and `cog build` reads it there.
    """
    print_schema(ProjectFile(Path(config_file)))


def print_schema(project: ProjectFile) -> None:
    config = load_config(project.config_path)
    if config.predict is None and config.train is None:
        raise ConfigError(
            f"{project.config_path}: names no model to describe (no run, predict or train)",
            'Add the runner, for example: run: "run.py:Runner"',
        )
    from cog._signature.project_schema import project_schema  # noqa: PLC0415 (only this command needs it)

    result = project_schema(project.project_dir, config.predict, config.train)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(json.dumps(result.document, indent=2))
