"""Progress for lock, build, push and pull: live bars on a terminal, plain lines otherwise.

``--progress`` picks: ``auto`` (bars when the stream is a terminal), ``tty``, ``plain``
(a few lines per phase, readable in CI logs) or ``quiet``. Bars are drawn by rich
(``cog.cli._progress_bars``), imported only when a terminal is drawn on: it costs about
0.2 s of start-up that ``cog --version`` and plain output never pay.
Tasks may be advanced from several threads at once (parallel fetches and uploads), so every
write happens under one lock.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

from cog.cli._state import state
from cog.progress import NullProgress, Phase, Progress, Task

# Without a terminal a phase prints a line when it starts, when it ends, and at most one
# in between per this many seconds: a CI log shows that a long download moves.
PLAIN_INTERVAL = 10.0
# Progress does not say what a bare task counts. Files and packages never number a million,
# so a total this large is bytes and is shown as a size.
_BYTES_THRESHOLD = 1_000_000


def terminal_progress(stream: TextIO, *, mode: str = "auto", color: bool | None = None) -> Progress:
    """The Progress for ``stream`` in ``mode`` (auto, tty, plain or quiet).

    ``color`` None follows --no-color, NO_COLOR and COG_NO_COLOR.
    """
    if mode == "quiet":
        return NullProgress()
    # A terminal that says it cannot redraw (TERM=dumb: an editor's shell) gets plain lines.
    capable = _isatty(stream) and os.environ.get("TERM") != "dumb"
    is_tty = mode == "tty" or (mode == "auto" and capable)
    if not is_tty:
        return PlainProgress(stream)
    from cog.cli._progress_bars import BarProgress  # noqa: PLC0415 (rich costs ~0.2 s)

    return BarProgress(stream, color=state().color if color is None else color)


def command_progress(mode: str) -> Progress:
    """The Progress a command's ``--progress`` asks for, on stderr (stdout is for output)."""
    return terminal_progress(sys.stderr, mode=mode)


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_size(size: float) -> str:
    """Decimal units, as pip, uv and docker print them: 512 B, 1.5 kB, 45.2 MB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def format_amount(done: int, total: int | None) -> str:
    """'12.3/45.2 MB' for sizes, '3/10' for counts."""
    if total is not None and total >= _BYTES_THRESHOLD:
        return format_sizes(done, total)
    if total is None:
        return format_size(done) if done >= _BYTES_THRESHOLD else str(done)
    return f"{done}/{total}"


def format_sizes(done: int, total: int) -> str:
    """'12.3/45.2 MB', or '512 kB/1.2 MB' when the units differ."""
    done_text, total_text = format_size(done), format_size(total)
    if done_text.split()[1] == total_text.split()[1]:
        return f"{done_text.split()[0]}/{total_text}"
    return f"{done_text}/{total_text}"


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class PhaseCounter:
    """What a phase did: bytes moved, items finished, items that needed no transfer."""

    def __init__(self, total: int | None, clock: Callable[[], float]) -> None:
        self.total = total
        self.done = 0
        self.items = 0
        self.present = 0
        self.started = clock()

    def summary(self, done: str, noun: str, seconds: float) -> str:
        """'fetched 77 files, 45.2 MB in 5.3 s' (and '(2 already present)' when some were)."""
        line = f"{done} {self.items - self.present} {noun}"
        if self.done:
            line += f", {format_size(self.done)}"
        line += f" in {format_seconds(seconds)}"
        if self.present:
            line += f" ({self.present} already present)"
        return line


class _PlainItem:
    def __init__(self, phase: _PlainPhase, total: int | None) -> None:
        self._phase, self._total, self._done, self._finished = phase, total, 0, False

    def advance(self, amount: int) -> None:
        self._done += amount
        self._phase.advanced(amount)

    def finish(self, message: str | None = None) -> None:
        if not self._finished:
            self._finished = True
            self._phase.item_finished(present=self._done == 0 and bool(self._total))


class _PlainPhase:
    def __init__(self, owner: PlainProgress, title: str, done: str, noun: str, total: int | None):
        self._owner, self._title, self._done_word, self._noun = owner, title, done, noun
        self._clock = owner.clock
        self._count = PhaseCounter(total, self._clock)
        self._last_line = self._count.started
        self._lock = threading.Lock()
        self._owner.write(f"{title}..." + (f" ({format_size(total)})" if total else ""))

    def task(self, description: str, total: int | None = None) -> Task:
        return _PlainItem(self, total)

    def info(self, message: str) -> None:
        self._owner.write(message)

    def advanced(self, amount: int) -> None:
        with self._lock:
            self._count.done += amount
            now = self._clock()
            if now - self._last_line < PLAIN_INTERVAL:
                return
            self._last_line = now
            count = self._count
        rate = count.done / max(now - count.started, 1e-9)
        self._owner.write(
            f"{self._title}: {format_amount(count.done, count.total)}, {format_size(rate)}/s"
        )

    def item_finished(self, *, present: bool) -> None:
        with self._lock:
            self._count.items += 1
            self._count.present += present

    def close(self, *, failed: bool = False) -> None:
        count = self._count
        if failed or not count.items:
            return
        self._owner.write(count.summary(self._done_word, self._noun, self._clock() - count.started))


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
    """A line when each task starts and when it finishes; a few lines per phase."""

    def __init__(self, stream: TextIO, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self.clock = clock
        self._lock = threading.Lock()

    def task(self, description: str, total: int | None = None) -> Task:
        size = f" ({format_amount(total, None)})" if total else ""
        self.write(f"{description}...{size}")
        return _PlainTask(self, description)

    def phase(self, title: str, *, done: str, noun: str, total: int | None = None) -> Phase:
        return _PlainPhase(self, title, done, noun, total)

    def info(self, message: str) -> None:
        self.write(message)

    def write(self, line: str) -> None:
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
