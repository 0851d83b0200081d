"""The ASGI application: the prediction endpoints as bare ASGI, everything else in Quart."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from cog.runtime._http import Receive, Scope, Send, dumps, respond
from cog.runtime._predictions_api import PredictionsApi
from cog.runtime._service import Service
from quart import Response
from quart_trio import QuartTrio

from cog._signature.model import Mode
from cog._version import __version__

_HERE = os.path.dirname(os.path.abspath(__file__))
_PREFIXES = {"/predictions": Mode.PREDICT, "/trainings": Mode.TRAIN}


def _json(value: object, status: int = 200) -> Response:
    return Response(dumps(value), status=status, content_type="application/json")


def _quart_app(service: Service, request_shutdown: Callable[[], None]) -> QuartTrio:
    # Explicit paths: Flask's package discovery fails for a package mapped from runtime/.
    app = QuartTrio(__name__, root_path=_HERE, instance_path=_HERE)
    openapi_cache: dict[str, Any] = {}

    @app.get("/")
    async def discovery() -> Response:
        body: dict[str, object] = {
            "cog_version": __version__,
            "docs_url": "/docs",
            "openapi_url": "/openapi.json",
            "shutdown_url": "/shutdown",
            "healthcheck_url": "/health-check",
            "predictions_url": "/predictions",
            "predictions_idempotent_url": "/predictions/{prediction_id}",
            "predictions_cancel_url": "/predictions/{prediction_id}/cancel",
        }
        if Mode.TRAIN in service.pools:
            body["trainings_url"] = "/trainings"
            body["trainings_idempotent_url"] = "/trainings/{training_id}"
            body["trainings_cancel_url"] = "/trainings/{training_id}/cancel"
        return _json(body)

    @app.get("/health-check")
    async def health() -> Response:
        return _json(await service.health())

    @app.get("/openapi.json")
    async def openapi() -> Response:
        if "doc" not in openapi_cache:
            pools = service.pools
            waiting = [p for p in pools.values() if p.signature is None]
            if waiting:
                failed = next((p.load_error for p in waiting if p.load_error), None)
                if failed:
                    return _json({"detail": f"the model could not be loaded: {failed}"}, 503)
                return _json({"detail": "the model is still loading"}, 503)
            from cog._signature.openapi import openapi_document  # noqa: PLC0415

            predict, train = pools.get(Mode.PREDICT), pools.get(Mode.TRAIN)
            openapi_cache["doc"] = openapi_document(
                predict.signature if predict else None, train.signature if train else None
            )
        return _json(openapi_cache["doc"])

    @app.post("/shutdown")
    async def shutdown() -> Response:
        request_shutdown()
        return _json({})

    return app


class Application:
    """Routes /predictions and /trainings itself; hands the rest to Quart."""

    def __init__(self, service: Service, request_shutdown: Callable[[], None]) -> None:
        self.api = PredictionsApi(service)
        self.quart = _quart_app(service, request_shutdown)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for prefix, mode in _PREFIXES.items():
                if path.startswith(prefix):
                    await self._predictions(scope, receive, send, mode, path[len(prefix) :])
                    return
        await self.quart(scope, receive, send)

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
