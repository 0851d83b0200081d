"""The model's own healthcheck(), run beside /health-check instead of inside it.

/health-check is what a livenessProbe and a load balancer poll, often every second and
with a one-second timeout. Asking the worker on each request would make the answer as slow
as the model's healthcheck() (up to its 5 s timeout, and slower still while a busy worker
holds the GIL), and a slow liveness answer gets a healthy pod restarted. So the request
reads the last result, and a stale one is refreshed in the background, at most one
refresh at a time: the answer never waits on a worker, and is at most about MAX_AGE plus
one healthcheck() old. Until the first result the model counts as healthy.
"""

from __future__ import annotations

import trio
from cog.runtime._messages import HealthResult
from cog.runtime._pool import Pool

MAX_AGE = 1.0  # seconds a result is reused before a request triggers a refresh
TIMEOUT = 5.0  # a healthcheck() that takes longer counts as failed


class UserHealth:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._result = HealthResult(ok=True)
        self._checked_at = -float("inf")
        self._refreshing = False

    def latest(self, nursery: trio.Nursery) -> HealthResult:
        """The last result; starts a refresh in ``nursery`` when it is stale."""
        if not self._refreshing and trio.current_time() - self._checked_at > MAX_AGE:
            self._refreshing = True
            nursery.start_soon(self._refresh)
        return self._result

    async def _refresh(self) -> None:
        try:
            self._result = await self._pool.healthcheck(timeout=TIMEOUT)
        finally:
            self._checked_at = trio.current_time()
            self._refreshing = False
