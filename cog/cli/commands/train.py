"""`cog train` (deprecated by the reference, kept working): one training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cog.cli.commands.run import RunRequest, deprecated, run, run_options, run_request


@click.command("train", hidden=True)  # hidden and deprecated, as in the reference
@run_options
@click.option(
    "-o", "--output", default=None, metavar="PATH", help="Output path.  [default: weights]"
)
def train_command(**params: Any) -> None:
    """Run a training.

    If IMAGE is passed, it trains with that image, which must have been built by Cog.
    Otherwise, it builds the model in the current directory and trains it. The output is
    written to ./weights unless -o says otherwise.
    """
    deprecated("train", "the train command will be removed in a future version of Cog")
    train(run_request(params, default_output=Path("weights")))


def train(request: RunRequest) -> None:
    run(request, train=True)
