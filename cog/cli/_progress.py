"""Progress for lock, build, push and pull: bars on a terminal, plain lines otherwise.

``--progress`` picks: ``auto`` (bars when the stream is a terminal), ``tty``, ``plain``
(one line when a task starts and one when it ends: readable in CI logs) or ``quiet``.
Tasks may be advanced from several threads at once (parallel uploads), so every write
happens under one lock.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

import click

from cog.cli._state import state
from cog.progress import NullProgress, Progress, Task

_REDRAW_INTERVAL = 0.1  # seconds; bars redraw at most this often, except on start/finish
_BAR_WIDTH = 24
# Progress does not say what a task counts. Files and packages never number a million,
# so a total this large is bytes and is shown as a size.
_BYTES_THRESHOLD = 1 << 20


def terminal_progress(stream: TextIO, *, mode: str = "auto", color: bool | None = None) -> Progress:
    """The Progress for ``stream`` in ``mode`` (auto, tty, plain or quiet).

    ``color`` None follows --no-color, NO_COLOR and COG_NO_COLOR.
    """
    if mode == "quiet":
        return NullProgress()
    is_tty = mode == "tty" or (mode == "auto" and _isatty(stream))
    if not is_tty:
        return PlainProgress(stream)
    return BarProgress(stream, color=state().color if color is None else color)


def command_progress(mode: str) -> Progress:
    """The Progress a command's ``--progress`` asks for, on stderr (stdout is for output)."""
    return terminal_progress(sys.stderr, mode=mode)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_amount(done: int, total: int | None) -> str:
    if total is not None and total >= _BYTES_THRESHOLD:
        return f"{format_size(done)}/{format_size(total)}"
    if total is None:
        return format_size(done) if done >= _BYTES_THRESHOLD else str(done)
    return f"{done}/{total}"


def format_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class _PlainTask:
    def __init__(self, owner: PlainProgress, description: str) -> None:
        self._owner = owner
        self._description = description
        self._done = False

    def advance(self, amount: int) -> None:
        pass

    def finish(self, message: str | None = None) -> None:
        if not self._done:
            self._done = True
            self._owner.write(f"{self._description}: {message or 'done'}")


class PlainProgress:
    """A line when each task starts and when it finishes."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def task(self, description: str, total: int | None = None) -> Task:
        size = f" ({format_amount(total, total).split('/')[0]})" if total else ""
        self.write(f"{description}...{size}")
        return _PlainTask(self, description)

    def info(self, message: str) -> None:
        self.write(message)

    def write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()


class _BarTask:
    def __init__(self, owner: BarProgress, description: str, total: int | None) -> None:
        self.owner = owner
        self.description = description
        self.total = total
        self.done = 0

    def advance(self, amount: int) -> None:
        self.owner.advanced(self, amount)

    def finish(self, message: str | None = None) -> None:
        self.owner.finished(self, message)


class BarProgress:
    """One redrawn bar per running task; finished tasks and info lines scroll above them."""

    def __init__(
        self,
        stream: TextIO,
        *,
        color: bool,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
    ) -> None:
        self._stream = stream
        self._color = color
        self._clock = clock
        self._width = width
        self._lock = threading.Lock()
        self._active: list[_BarTask] = []
        self._drawn = 0
        self._last_draw = float("-inf")

    def task(self, description: str, total: int | None = None) -> Task:
        task = _BarTask(self, description, total)
        with self._lock:
            self._active.append(task)
            self._redraw()
        return task

    def info(self, message: str) -> None:
        with self._lock:
            self._clear()
            self._stream.write(message + "\n")
            self._redraw()

    def advanced(self, task: _BarTask, amount: int) -> None:
        with self._lock:
            task.done += amount
            if self._clock() - self._last_draw >= _REDRAW_INTERVAL:
                self._redraw()

    def finished(self, task: _BarTask, message: str | None) -> None:
        with self._lock:
            if task not in self._active:
                return
            self._active.remove(task)
            self._clear()
            mark = click.style("✓", fg="green") if self._color else "✓"
            summary = message or (format_amount(task.done, None) if task.done else "done")
            self._stream.write(self._fit(f"{mark} {task.description}: {summary}") + "\n")
            self._redraw()

    def _clear(self) -> None:
        if self._drawn:
            # Up to the first bar line, then erase everything below the cursor.
            self._stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _redraw(self) -> None:
        self._clear()
        for task in self._active:
            self._stream.write(self._fit(self._line(task)) + "\n")
        self._drawn = len(self._active)
        self._last_draw = self._clock()
        self._stream.flush()

    def _line(self, task: _BarTask) -> str:
        amount = format_amount(task.done, task.total)
        if not task.total:
            return f"  {task.description} {amount}"
        fraction = min(task.done / task.total, 1.0)
        filled = round(fraction * _BAR_WIDTH)
        bar = "█" * filled + "░" * (_BAR_WIDTH - filled)
        if self._color:
            bar = click.style(bar, fg="cyan")
        return f"  {task.description} {bar} {fraction:4.0%} {amount}"

    def _fit(self, line: str) -> str:
        # A wrapped line would break the cursor arithmetic in _clear.
        width = self._width or shutil.get_terminal_size().columns
        visible = click.unstyle(line)
        if len(visible) < width:
            return line
        return visible[: max(width - 2, 1)] + "…"
