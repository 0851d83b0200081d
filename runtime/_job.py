"""What a pool tracks for each admitted prediction, and what it reports about setup."""

from __future__ import annotations

import collections
import contextlib
import enum
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import trio

from cog.runtime._messages import Done
from cog.runtime._prediction import Prediction

if TYPE_CHECKING:
    from cog.runtime._worker_proxy import Worker

log = logging.getLogger("cog.runtime")

# Seconds a worker process may take to start its Python and the runtime, before the
# model's import (and COG_SETUP_TIMEOUT's clock) begins; only when a timeout is set.
STARTUP_LIMIT = 30.0


class AtCapacity(Exception):  # noqa: N818
    pass


class PoolStatus(enum.Enum):
    """A pool's state as /health-check names it (UNHEALTHY is the model's own verdict)."""

    STARTING = "STARTING"
    READY = "READY"
    BUSY = "BUSY"
    SETUP_FAILED = "SETUP_FAILED"
    DEFUNCT = "DEFUNCT"

    @property
    def serving(self) -> bool:
        """Set up and able to take predictions, now (READY) or once a slot frees (BUSY)."""
        return self in (PoolStatus.READY, PoolStatus.BUSY)


@dataclass
class SetupState:
    started_at: str | None = None
    completed_at: str | None = None
    status: str = "starting"  # starting, succeeded, failed
    logs: list[str] = field(default_factory=list)

    def report(self) -> dict[str, object]:
        """The ``setup`` object of /health-check."""
        return {
            "started_at": self.started_at,
            "completed_at": self.completed_at,
            "status": self.status,
            "logs": "".join(self.logs),
        }


@dataclass
class Job:
    prediction: Prediction
    kwargs: dict[str, object]
    chunks: trio.MemorySendChannel[tuple[int, object]]
    chunk_receive: trio.MemoryReceiveChannel[tuple[int, object]]
    finished: trio.Event = field(default_factory=trio.Event)
    result: Done | None = None
    worker: Worker | None = None  # once dispatched
    started: float = 0.0
    dispatched: bool = False
    # Called with the result as it arrives, before anything else is woken: the service
    # completes a prediction whose output needs no further work right there.
    on_finish: Callable[[Done], None] | None = None

    def finish(self, result: Done) -> None:
        if self.result is None:
            self.result = result
            with contextlib.suppress(trio.BrokenResourceError):
                self.chunks.close()
            if self.on_finish is not None:
                self.on_finish(result)
            self.finished.set()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started if self.started else 0.0


def how_it_ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited (exit code {code})"


class ReplacementBudget:
    """Dead workers are replaced at most ``limit`` times within any ``window`` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self._limit = limit
        self._window = window
        self._replaced: collections.deque[float] = collections.deque()  # when, monotonic

    def allow(self) -> bool:
        """Count a replacement against the budget; False once the rate is exceeded."""
        now_ = time.monotonic()
        replaced = self._replaced
        while replaced and now_ - replaced[0] > self._window:
            replaced.popleft()
        if len(replaced) >= self._limit:
            message = "workers died %d times within %gs: giving up (DEFUNCT)"
            log.error(message, len(replaced) + 1, self._window)
            return False
        replaced.append(now_)
        return True


async def setup_deadline(
    worker: Worker, spawned: float, timeout: float, done: trio.Event
) -> str | None:
    """Wait for ``done`` within COG_SETUP_TIMEOUT; None if it came, else what was late.

    The clock starts when the worker begins importing the model (its import counts, the
    runtime's own interpreter startup does not); a worker that never gets that far is
    given up on after the timeout or STARTUP_LIMIT from its spawn, whichever is longer.
    """
    startup = max(timeout, STARTUP_LIMIT)
    with trio.move_on_after(max(0.0, startup - (time.monotonic() - spawned))):
        await worker.importing.wait()
    if not worker.importing.is_set():
        return "the worker's startup"
    left = timeout - (time.monotonic() - worker.importing_since)
    with trio.move_on_after(max(0.0, left)):
        await done.wait()
        return None
    return "setup" if worker.loaded else "the model's import"
