"""The ASGI application: prediction endpoints and health as bare ASGI, the rest in Quart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import trio

from cog._signature.model import Mode
from cog.runtime._http import Receive, Scope, Send, dumps, respond, respond_json
from cog.runtime._predictions_api import PredictionsApi
from cog.runtime._service import Service

_PREFIXES = {"/predictions": Mode.PREDICT, "/trainings": Mode.TRAIN}


class Application:
    """Routes /predictions, /trainings and /health-check itself; hands the rest to Quart."""

    def __init__(self, service: Service, request_shutdown: Callable[[], None]) -> None:
        self.api = PredictionsApi(service)
        self._service = service
        self._request_shutdown = request_shutdown
        self._quart: Any = None
        self._quart_ready = trio.Event()
        self._quart_wanted = trio.Event()

    async def load_quart(self) -> None:
        """Import and build the Quart app off the event loop (run once, in the background).

        Not before setup has finished (the CPU is the model's until then) unless a request
        needs Quart sooner.
        """
        service, shutdown = self._service, self._request_shutdown
        async with trio.open_nursery() as nursery:

            async def first_of(wait: Callable[[], Awaitable[object]]) -> None:
                await wait()
                nursery.cancel_scope.cancel()

            nursery.start_soon(first_of, service.wait_setup)
            nursery.start_soon(first_of, self._quart_wanted.wait)

        def build() -> object:
            from cog.runtime._quart_routes import quart_app  # noqa: PLC0415

            app = quart_app(service, shutdown)
            # Webhooks and file inputs import requests when first used: warm it here,
            # after setup, instead of before READY.
            import requests  # noqa: F401, PLC0415

            return app

        self._quart = await trio.to_thread.run_sync(build)
        self._quart_ready.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            for prefix, mode in _PREFIXES.items():
                if path.startswith(prefix):
                    await self._predictions(scope, receive, send, mode, path[len(prefix) :])
                    return
            if path == "/health-check" and scope["method"] == "GET":
                await respond_json(send, 200, await self._service.health())
                return
        elif kind == "lifespan":
            await _lifespan(receive, send)
            return
        self._quart_wanted.set()
        await self._quart_ready.wait()
        await self._quart(scope, receive, send)

    async def _predictions(
        self, scope: Scope, receive: Receive, send: Send, mode: Mode, rest: str
    ) -> None:
        method = scope["method"]
        rest = rest.rstrip("/")
        if rest == "":
            if method == "POST":
                await self.api.create(scope, receive, send, mode, None)
                return
        elif rest.count("/") == 1:
            if method == "PUT":
                await self.api.create(scope, receive, send, mode, rest[1:])
                return
        elif rest.count("/") == 2 and rest.endswith("/cancel"):
            if method == "POST":
                await self.api.cancel(send, rest[1:-7])
                return
        else:
            await respond(send, 404, dumps({"detail": "Not Found"}))
            return
        await respond(send, 405, dumps({"detail": "Method Not Allowed"}))


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up or tear down here: the pools live beside the HTTP server.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
