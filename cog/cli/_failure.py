"""How a failed command ends: one message and a hint, a traceback only with --debug."""

from __future__ import annotations

import errno
import traceback

import click

from cog.cli._state import CliState
from cog.errors import CogError

DEBUG_HINT = "run with --debug for the traceback"


def report_cog_error(error: CogError, settings: CliState) -> int:
    """Print ``error: <message>`` and its hint on stderr; returns the exit code."""
    if settings.debug:
        click.echo(_traceback(error), err=True, nl=False)
    click.echo(f"{_label(settings)} {error.message}", err=True, color=_color(settings))
    if error.hint:
        click.echo(error.hint, err=True)
    return error.exit_code


def report_unexpected(error: BaseException, settings: CliState) -> int:
    """A bug or an unanticipated failure: one line, and how to see more."""
    full = disk_full(error)
    if full is not None:
        return report_cog_error(full, settings)
    if settings.debug:
        click.echo(_traceback(error), err=True, nl=False)
    detail = str(error) or "(no message)"
    click.echo(
        f"{_label(settings)} unexpected {type(error).__name__}: {detail}",
        err=True,
        color=_color(settings),
    )
    if not settings.debug:
        click.echo(DEBUG_HINT, err=True)
    return 1


def disk_full(error: BaseException) -> CogError | None:
    """A full disk anywhere in the error's chain, said as such, with the path when known."""
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and all(link is not seen for seen in chain):  # chains may loop
        chain.append(link)
        link = link.__cause__ or link.__context__
    full = [e for e in chain if isinstance(e, OSError) and e.errno == errno.ENOSPC]
    named = [e for e in full if e.filename is not None]
    return _no_space((named or full)[0]) if full else None


def _no_space(error: OSError) -> CogError:
    from cog.rules._files import default_cache_root  # noqa: PLC0415 (only when it happens)

    where = error.filename if error.filename is not None else "the disk cog was writing to"
    return CogError(
        f"no space left on {where}",
        f"Free some space and run the command again. cog keeps its cache in "
        f"{default_cache_root()} (set COG_CACHE_DIR to move it); the cache holds only "
        "complete, verified files.",
    )


def _color(settings: CliState) -> bool | None:
    # None lets click decide from the stream (colour on a terminal only); False strips it.
    return None if settings.color else False


def _label(settings: CliState) -> str:
    if settings.color:
        return click.style("error:", fg="red", bold=True)
    return "error:"


def _traceback(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))
