"""How long operations (lock, build, push, pull) report progress.

Rules and orchestration code take a ``Progress`` and never print; the CLI passes one that
draws bars on a terminal and plain lines otherwise (``cog.cli``), tests pass ``NullProgress``
or a recorder.
"""

from __future__ import annotations

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
