"""A Progress that records what it is told, and can run a hook as bytes go out."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from cog.progress import Task


@dataclass
class RecordedTask:
    description: str
    total: int | None
    done: int = 0
    finished: str | None = None
    hook: Callable[[RecordedTask], None] | None = field(default=None, repr=False)

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.hook is not None:
            self.hook(self)

    def finish(self, message: str | None = None) -> None:
        self.finished = message or ""


class Recorder:
    def __init__(self, hook: Callable[[RecordedTask], None] | None = None) -> None:
        self.tasks: list[RecordedTask] = []
        self.lines: list[str] = []
        self._hook = hook
        self._lock = threading.Lock()

    def task(self, description: str, total: int | None = None) -> Task:
        recorded = RecordedTask(description, total, hook=self._hook)
        with self._lock:
            self.tasks.append(recorded)
        return recorded

    def info(self, message: str) -> None:
        self.lines.append(message)
