"""The Quart application for the endpoints off the hot path: /, /openapi.json, /shutdown.

Imported in a thread once the server is up, so that Flask, Jinja and Quart (most of the
server's import time) never delay the first health check.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from quart import Response
from quart_trio import QuartTrio

from cog._signature.model import Mode
from cog._version import __version__
from cog.runtime._docs_page import register_docs
from cog.runtime._http import dumps
from cog.runtime._service import Service

_HERE = os.path.dirname(os.path.abspath(__file__))


def _json(value: object, status: int = 200) -> Response:
    return Response(dumps(value), status=status, content_type="application/json")


def quart_app(service: Service, request_shutdown: Callable[[], None]) -> QuartTrio:
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

    register_docs(app)
    return app
