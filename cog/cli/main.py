"""Entry point of the ``cog`` command (placeholder until the CLI lands)."""

from __future__ import annotations

import click

from cog._version import __version__


@click.group()
@click.version_option(__version__, "--version", prog_name="cog")
def cli() -> None:
    """Containers for machine learning."""


def main() -> None:
    cli()
