"""The model's own healthcheck(), run for /health-check as the reference runs it.

While the model is READY (set up, a slot free), each /health-check asks the model's
healthcheck() and answers with what it says: UNHEALTHY with "Healthcheck failed:
user-defined healthcheck returned False", or "... timed out after 5.0 seconds" when it
takes longer than TIMEOUT. A result is never kept for a later request, so the answer
right after setup, and after each prediction, is the model's verdict of that moment.
Requests that arrive while a healthcheck() is running share its result instead of
queueing more calls into the model. The check runs in the service's nursery: a client
that hangs up does not cancel it for the others waiting on it.
"""

from __future__ import annotations

import trio

from cog.runtime._messages import HealthResult
from cog.runtime._pool import Pool

TIMEOUT = 5.0  # a healthcheck() that takes longer counts as failed


class _Check:
    def __init__(self) -> None:
        self.done = trio.Event()
        self.result = HealthResult(ok=True)


class UserHealth:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._running: _Check | None = None

    async def check(self, nursery: trio.Nursery) -> HealthResult:
        """What healthcheck() says now (joining the call already running, if any)."""
        running = self._running
        if running is None:
            running = self._running = _Check()
            nursery.start_soon(self._run, running)
        await running.done.wait()
        return running.result

    async def _run(self, check: _Check) -> None:
        try:
            check.result = await self._pool.healthcheck(timeout=TIMEOUT)
        except Exception as exc:  # noqa: BLE001 (reported as the reference does)
            check.result = HealthResult(ok=False, error=f"Healthcheck error: {exc}")
        finally:
            self._running = None
            check.done.set()
