"""The terminal side of cog.cli._progress_display: one live rich display per command.

A phase is one row with a bar (bytes done/total, speed, time left); the items it is made of
show beneath it only while they run; when it ends, its row becomes one summary line
("✓ fetched 77 files, 45.2 MB in 5.3 s") that scrolls up with the rest of the output.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import Progress as RichProgress
from rich.progress import ProgressColumn, TaskID
from rich.progress import Task as RichTask
from rich.text import Text

from cog.cli._progress_display import (
    PhaseCounter,
    format_amount,
    format_seconds,
    format_size,
    format_sizes,
)
from cog.progress import Phase, Task

_BAR_WIDTH = 24
_PHASE, _ITEM, _TASK = "phase", "item", "task"


class _Row(ProgressColumn):
    """A whole row as one line of text: rich's own columns would give items a bar too."""

    def __init__(self, color: bool) -> None:
        super().__init__()
        self._color = color

    def render(self, task: RichTask) -> Text:
        kind = task.fields.get("kind", _TASK)
        total = int(task.total) if task.total is not None else None
        done = int(task.completed)
        line = Text(no_wrap=True, overflow="ellipsis")
        if kind == _ITEM:
            line.append(f"  ↳ {task.description} ", style="dim")
            line.append(format_amount(done, total) if total else format_size(done), style="dim")
            return line
        line.append(task.description + " ", style="bold" if kind == _PHASE else "")
        if total:
            line.append_text(self._bar(done / total))
            line.append(
                f" {format_amount(done, total) if kind == _TASK else format_sizes(done, total)}"
            )
        elif kind == _PHASE or done:
            line.append(format_size(done) if kind == _PHASE else format_amount(done, None))
        else:
            line.append(format_seconds(task.elapsed or 0.0), style="dim")
        if kind == _PHASE:
            line.append(_speed_and_eta(task), style="dim")
        return line

    def _bar(self, fraction: float) -> Text:
        filled = round(min(fraction, 1.0) * _BAR_WIDTH)
        bar = Text()
        bar.append("━" * filled, style="magenta" if self._color else "")
        bar.append("━" * (_BAR_WIDTH - filled) if self._color else "╌" * (_BAR_WIDTH - filled))
        if self._color:
            bar.stylize("grey23", filled)
        return bar


def _speed_and_eta(task: RichTask) -> str:
    speed = task.speed
    if not speed:
        return ""
    text = f" {format_size(speed)}/s"
    left = task.time_remaining
    if left is not None and task.total:
        text += f", {format_seconds(left)} left"
    return text


class _BarTask:
    def __init__(
        self, owner: BarProgress, description: str, phase: _BarPhase | None, total: int | None
    ) -> None:
        kind = _TASK if phase is None else _ITEM
        self._owner, self._description, self._phase = owner, description, phase
        self._row = owner.add_row(description, total=total, kind=kind)
        self.total, self.done, self._finished = total, 0, False
        self._lock = threading.Lock()

    def advance(self, amount: int) -> None:
        with self._lock:
            self.done += amount
        self._owner.rich.advance(self._row, amount)
        if self._phase is not None:
            self._phase.advanced(amount)

    def finish(self, message: str | None = None) -> None:
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self._owner.remove_row(self._row)
        if self._phase is not None:
            self._phase.item_finished(self)
        else:
            self._owner.finished_line(self._description, message or self._summary())

    def _summary(self) -> str:
        return format_amount(self.done, None) if self.done else "done"


class _BarPhase:
    def __init__(self, owner: BarProgress, title: str, done: str, noun: str, total: int | None):
        self._owner, self._done_word, self._noun = owner, done, noun
        self._count = PhaseCounter(total, owner.clock)
        self._known_total = total is not None
        self._row = owner.add_row(title, total=total, kind=_PHASE)
        self._lock = threading.Lock()
        self._closed = False

    def task(self, description: str, total: int | None = None) -> Task:
        if not self._known_total and total:
            with self._lock:
                self._count.total = (self._count.total or 0) + total
                grown = self._count.total
            self._owner.rich.update(self._row, total=grown)
        return _BarTask(self._owner, description, self, total)

    def info(self, message: str) -> None:
        self._owner.info(message)

    def advanced(self, amount: int) -> None:
        with self._lock:
            self._count.done += amount
        self._owner.rich.advance(self._row, amount)

    def item_finished(self, item: _BarTask) -> None:
        with self._lock:
            self._count.items += 1
            if item.total and item.done < item.total:
                # Nothing (or less) was moved for it: cached, already in the registry.
                self._count.present += item.done == 0
                if self._count.total is not None:
                    self._count.total -= item.total - item.done
                    shrunk: int | None = self._count.total
                else:
                    shrunk = None
            else:
                shrunk = None
        if shrunk is not None:
            self._owner.rich.update(self._row, total=max(shrunk, 0))

    def close(self, *, failed: bool = False) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            count = self._count
        self._owner.remove_row(self._row)
        if failed or not count.items:
            return
        seconds = self._owner.clock() - count.started
        self._owner.finished_line(None, count.summary(self._done_word, self._noun, seconds))


class BarProgress:
    """Live rows for running phases and tasks; finished ones and info lines scroll above."""

    def __init__(
        self,
        stream: TextIO,
        *,
        color: bool,
        width: int | None = None,
        refresh: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.console = Console(
            file=stream,
            force_terminal=True,
            no_color=not color,
            color_system="auto" if color else None,
            highlight=False,
            width=width,
        )
        self._color = color
        self.rich = RichProgress(
            _Row(color),
            console=self.console,
            transient=True,
            auto_refresh=refresh,
            redirect_stdout=False,
            redirect_stderr=False,
            get_time=clock,
        )
        self._rows = 0
        self._lock = threading.Lock()

    def task(self, description: str, total: int | None = None) -> Task:
        return _BarTask(self, description, None, total)

    def phase(self, title: str, *, done: str, noun: str, total: int | None = None) -> Phase:
        return _BarPhase(self, title, done, noun, total)

    def info(self, message: str) -> None:
        self.console.print(Text(message))

    def add_row(self, description: str, *, total: int | None, kind: str) -> TaskID:
        with self._lock:
            if self._rows == 0:
                self.rich.start()
            self._rows += 1
            return self.rich.add_task(description, total=total, kind=kind)

    def remove_row(self, row: TaskID) -> None:
        with self._lock:
            self.rich.remove_task(row)
            self._rows -= 1
            if self._rows == 0:
                self.rich.stop()

    def finished_line(self, description: str | None, message: str) -> None:
        line = Text()
        line.append("✓ ", style="green" if self._color else "")
        line.append(f"{description}: {message}" if description else message)
        self.console.print(line, overflow="ellipsis", no_wrap=True, crop=True)
