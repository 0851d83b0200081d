"""How long operations (lock, build, push, pull) report progress.

Rules and orchestration code take a ``Progress`` and never print; the CLI passes one that
draws bars on a terminal and plain lines otherwise (``cog.cli``), tests pass ``NullProgress``
or a recorder.

Work made of many items (files fetched, layers compressed, blobs pushed or pulled, layers
unpacked) runs inside a *phase*: ``with phase(progress, "Fetching packages", done="fetched",
noun="files", total=size) as p:`` and the items report through ``p`` like any Progress. A
terminal shows one bar per phase (bytes done and total, speed, time left), each item only
while it runs, and one summary line when the phase ends; plain output prints a few lines per
phase, never one per item. A Progress without ``phase`` (an older recorder) still works: its
items are then reported to it one by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Task(Protocol):
    def advance(self, amount: int) -> None:
        """``amount`` more units (bytes, files, packages) are done."""

    def finish(self, message: str | None = None) -> None:
        """The task is complete; ``message`` replaces its line if given."""


class Progress(Protocol):
    def task(self, description: str, total: int | None = None) -> Task:
        """Start a task of ``total`` units (unknown when None)."""

    def info(self, message: str) -> None:
        """A line for the user, outside any task."""


class Phase(Progress, Protocol):
    """A Progress for the items of one phase; its tasks count bytes."""

    def close(self, *, failed: bool = False) -> None:
        """The phase is over: print its summary (or nothing more when it failed)."""


class PhasedProgress(Progress, Protocol):
    def phase(self, title: str, *, done: str, noun: str, total: int | None = None) -> Phase:
        """Start a phase titled ``title`` ("Fetching packages") of ``total`` bytes.

        Its summary reads "{done} {count} {noun}, {size} in {seconds}" ("fetched 77 files,
        45.2 MB in 5.3 s").
        """


@contextmanager
def phase(
    progress: Progress, title: str, *, done: str, noun: str, total: int | None = None
) -> Iterator[Progress]:
    """A phase of ``progress``, closed when the block ends (see the module docstring)."""
    opener = getattr(progress, "phase", None)
    if opener is None:
        yield progress
        return
    opened: Phase = opener(title, done=done, noun=noun, total=total)
    try:
        yield opened
    except BaseException:
        opened.close(failed=True)
        raise
    opened.close()


class _NullTask:
    def advance(self, amount: int) -> None:
        pass

    def finish(self, message: str | None = None) -> None:
        pass


class NullProgress:
    """Reports nothing."""

    def task(self, description: str, total: int | None = None) -> Task:
        return _NullTask()

    def info(self, message: str) -> None:
        pass
