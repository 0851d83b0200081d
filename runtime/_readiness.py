"""The Kubernetes readiness file: present exactly while this server can take predictions.

Like the reference, the server writes ``/var/run/cog/ready`` once setup succeeds when it
runs under Kubernetes (``KUBERNETES_SERVICE_HOST`` is set), so that a pod's readinessProbe
can be ``exec: test -f /var/run/cog/ready`` and never costs an HTTP request. This runtime
also removes it when the server stops being able to serve: setup failed, the model went
DEFUNCT, or the server is draining for shutdown (SIGTERM or POST /shutdown), so that the
endpoints controller takes the pod out of its Service before requests are refused.

The file is a courtesy to the orchestrator: failing to write it never stops the server.
"""

from __future__ import annotations

import logging
from pathlib import Path

import trio

from cog.runtime._pool import Pool
from cog.runtime._service import Service

log = logging.getLogger("cog.runtime")


class ReadinessFile:
    """Creates and removes one file; an error is logged once, then the file is left alone."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._broken = False

    def mark_ready(self) -> None:
        if self._broken:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        except OSError as exc:
            self._give_up("write", exc)
            return
        log.info("ready: wrote %s", self.path)

    def mark_not_ready(self) -> None:
        if self._broken:
            return
        try:
            self.path.unlink(missing_ok=True)
        except OSError as exc:
            self._give_up("remove", exc)

    def _give_up(self, action: str, exc: OSError) -> None:
        # Once: a read-only /var/run would otherwise log on every state change.
        self._broken = True
        log.error(
            "cannot %s the readiness file %s (%s); a readinessProbe on it will not see this"
            " server's state: use httpGet /health-check instead, or set COG_READY_FILE to a"
            " writable path",
            action,
            self.path,
            exc.strerror or exc,
        )


async def maintain(service: Service, ready_file: Path) -> None:
    """Keep ``ready_file`` present exactly while ``service`` can serve; run until canceled.

    Removed again when the task is canceled (the server is exiting).
    """
    readiness = ReadinessFile(ready_file)
    readiness.mark_not_ready()  # a previous run's file says nothing about this one
    try:
        await service.wait_setup()
        pool = service.primary_pool
        if pool is None or not pool.ready or not service.accepting:
            return
        readiness.mark_ready()
        await _until_unable_to_serve(service, pool)
        readiness.mark_not_ready()
    finally:
        readiness.mark_not_ready()


async def _until_unable_to_serve(service: Service, pool: Pool) -> None:
    async with trio.open_nursery() as nursery:

        async def cancel_after(event: trio.Event) -> None:
            await event.wait()
            nursery.cancel_scope.cancel()

        nursery.start_soon(cancel_after, pool.became_defunct)
        nursery.start_soon(cancel_after, service.draining)
