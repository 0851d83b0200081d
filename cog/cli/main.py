"""The ``cog`` command: global options, error rendering, and the commands."""

from __future__ import annotations

from typing import Any

import click

from cog._version import __version__
from cog.cli._errors import report_cog_error, report_unexpected
from cog.cli._state import CliState, color_allowed
from cog.cli.commands.build import build_command
from cog.cli.commands.doctor import doctor_command
from cog.cli.commands.exec import exec_command
from cog.cli.commands.init import init_command
from cog.cli.commands.lock import lock_command
from cog.cli.commands.login import login_command
from cog.cli.commands.pull import pull_command
from cog.cli.commands.push import push_command
from cog.cli.commands.run import predict_command, run_command
from cog.cli.commands.schema import schema_command
from cog.cli.commands.serve import serve_command
from cog.cli.commands.train import train_command
from cog.errors import CogError

INTERRUPTED_EXIT_CODE = 130


class CogGroup(click.Group):
    """Renders errors as one message and a hint; a traceback only with --debug."""

    def invoke(self, ctx: click.Context) -> Any:
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


for _command in (
    build_command,
    doctor_command,
    exec_command,
    init_command,
    lock_command,
    login_command,
    predict_command,
    pull_command,
    push_command,
    run_command,
    schema_command,
    serve_command,
    train_command,
):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="cog")
