"""The ``cog`` command: global options, error rendering, and the commands."""

from __future__ import annotations

import importlib
from typing import Any

import click

from cog import _notes
from cog._version import __version__
from cog.cli._failure import report_cog_error, report_unexpected
from cog.cli._state import CliState, color_allowed
from cog.errors import CogError

# Command name -> "module:attribute". Imported when the command runs (or --help lists
# them), so `cog --version` and `cog init` do not pay for pydantic and the config model.
COMMANDS = {
    "build": "cog.cli.commands.build:build_command",
    "doctor": "cog.cli.commands.doctor:doctor_command",
    "exec": "cog.cli.commands.exec:exec_command",
    "init": "cog.cli.commands.init:init_command",
    "lock": "cog.cli.commands.lock:lock_command",
    "login": "cog.cli.commands.login:login_command",
    "predict": "cog.cli.commands.run:predict_command",
    "pull": "cog.cli.commands.pull:pull_command",
    "push": "cog.cli.commands.push:push_command",
    "run": "cog.cli.commands.run:run_command",
    "schema": "cog.cli.commands.schema:schema_command",
    "serve": "cog.cli.commands.serve:serve_command",
    "train": "cog.cli.commands.train:train_command",
}
INTERRUPTED_EXIT_CODE = 130


class CogGroup(click.Group):
    """Loads commands on demand; renders errors as one message and a hint (a traceback only
    with --debug)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        _notes.enable()
        try:
            return super().invoke(ctx)
        except CogError as error:
            ctx.exit(report_cog_error(error, _settings(ctx)))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(INTERRUPTED_EXIT_CODE)
        except Exception as error:  # noqa: BLE001 (a bug: shown as one line, not a traceback)
            ctx.exit(report_unexpected(error, _settings(ctx)))


def _settings(ctx: click.Context) -> CliState:
    if isinstance(ctx.obj, CliState):
        return ctx.obj
    return CliState(debug=bool(ctx.params.get("debug")), color=color_allowed(False))


@click.group(cls=CogGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__,
    "--version",
    prog_name="cog",
    message="cog version %(version)s",
    help="Show version of Cog.",
)
@click.option("--debug", is_flag=True, help="Show debugging output.")
@click.option("--no-color", is_flag=True, help="Disable colored output.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, no_color: bool) -> None:
    """Containers for machine learning.

    To execute a command inside the environment defined with Cog:

        $ cog exec echo hello world
    """
    ctx.obj = CliState(debug=debug, color=color_allowed(no_color))
    if not ctx.obj.color:
        ctx.color = False


def main() -> None:
    cli(prog_name="cog")
