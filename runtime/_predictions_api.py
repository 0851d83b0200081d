"""POST/PUT /predictions (and /trainings) and cancel: the hot path, as bare ASGI."""

from __future__ import annotations

import trio

from cog._signature.model import Mode, Signature
from cog._signature.validate import (
    InputValidationError,
    body_not_object,
    request_validation_error,
    validate_input,
)
from cog.runtime._http import (
    JSON_HEADERS,
    SSE_HEADERS,
    BodyTooLarge,
    ClientGone,
    Receive,
    Scope,
    Send,
    dumps,
    header,
    load_json_body,
    read_body,
    respond,
    respond_json,
    sse_frame,
)
from cog.runtime._pool import AtCapacity, Pool, PoolStatus
from cog.runtime._prediction import EVENT_TYPES, Prediction, Request, echoed_input, new_id
from cog.runtime._service import Service

_CANCELED_KEPT = 1024
_NOT_SERVING = {
    PoolStatus.DEFUNCT: "the model is defunct: its worker cannot be restarted",
    PoolStatus.SETUP_FAILED: "setup failed: the model cannot run (see /health-check)",
    PoolStatus.STARTING: "setup has not finished yet: the model is still starting",
}
AT_CAPACITY = {"error": "At capacity - all prediction slots busy", "status": "failed"}


class _Reject(Exception):  # noqa: N818
    def __init__(
        self, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers


def _error(status: int, message: str) -> _Reject:
    return _Reject(status, dumps({"detail": message}))


def _draining() -> _Reject:
    message = (
        "the server is shutting down: it finishes the predictions it is running but takes"
        " no new ones; send this request to another instance"
    )
    # Close the connection too: a client's pooled keep-alive connection would otherwise
    # keep reaching this instance instead of being balanced onto another.
    headers = [*JSON_HEADERS, (b"connection", b"close"), (b"retry-after", b"1")]
    return _Reject(503, dumps({"detail": message}), headers)


def _invalid(exc: InputValidationError) -> _Reject:
    return _Reject(422, exc.body())


class PredictionsApi:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.max_body = service.settings.max_body_bytes
        # Ids canceled lately (insertion-ordered, bounded): a repeated cancel answers 200,
        # as the reference does, after the prediction has already ended.
        self._canceled: dict[str, None] = {}

    async def create(
        self, scope: Scope, receive: Receive, send: Send, mode: Mode, path_id: str | None
    ) -> None:
        try:
            pool, request, stream, wait = await self._admit(scope, receive, mode, path_id)
            existing = self.service.find(request.id)
            if existing is not None:
                prediction = existing[1].prediction
                if not prediction.request.same_input(request):
                    raise _invalid(request_validation_error(
                        ("body", "id"),
                        f"prediction {request.id} is already running with a different input",
                        "value_error.id_conflict",
                    ))  # fmt: skip
            else:
                try:
                    # A 202 answers with the prediction as admitted ("starting").
                    prediction = self.service.start(pool, request, dispatch_now=stream or wait)
                except AtCapacity:
                    raise _Reject(409, dumps(AT_CAPACITY)) from None
        except _Reject as reject:
            await respond(send, reject.status, reject.body, reject.headers)
            return
        except ClientGone:
            return
        if stream:
            await _stream(prediction, receive, send)
        elif wait:
            # A dropped POST cancels its prediction; a dropped PUT does not, so that the
            # client's retry with the same id finds it still running.
            await self._wait(prediction, receive, send, cancel_on_drop=path_id is None)
        else:
            await respond_json(send, 202, prediction.to_json())

    async def _admit(
        self, scope: Scope, receive: Receive, mode: Mode, path_id: str | None
    ) -> tuple[Pool, Request, bool, bool]:
        service = self.service
        pool = service.pools.get(mode)
        if pool is None:
            raise _error(404, f"this model has no {mode.value} entry point")
        stream = b"text/event-stream" in (header(scope, b"accept") or b"")
        if stream and mode is Mode.TRAIN:
            raise _error(406, "trainings cannot be streamed; ask for application/json")
        content_type = header(scope, b"content-type")
        if content_type is not None and not _is_json(content_type):
            raise _error(415, "Content-Type must be application/json")
        length = header(scope, b"content-length")
        try:
            body = await read_body(receive, self.max_body, int(length) if length else None)
        except (BodyTooLarge, ValueError):
            raise _error(413, f"request body larger than {self.max_body} bytes") from None
        if not service.accepting:
            raise _draining()
        status = pool.status()
        if not status.serving:
            raise _error(503, _NOT_SERVING[status])
        signature = pool.signature
        assert signature is not None  # set up: the model imported
        if stream and not signature.streaming:
            raise _error(406, "this model does not stream: its run() is not @cog.streaming")
        request = _parse(body, mode, path_id, signature)
        prefer = header(scope, b"prefer") or b""
        return pool, request, stream, b"respond-async" not in prefer

    async def _wait(
        self, prediction: Prediction, receive: Receive, send: Send, *, cancel_on_drop: bool
    ) -> None:
        # Wait for the prediction while watching for the client leaving, in this task:
        # completion cancels the scope (no watcher task per request).
        with trio.CancelScope() as waiting:
            prediction.done_scopes.append(waiting)
            if prediction.done.is_set():
                waiting.cancel()
            while (await receive())["type"] != "http.disconnect":
                pass
            if not cancel_on_drop:
                return  # the client left; nobody to answer
            await self.service.cancel(prediction.id)
            await prediction.done.wait()
        if not prediction.done.is_set():
            return
        await respond_json(send, 200, prediction.to_json())

    async def cancel(self, send: Send, prediction_id: str) -> None:
        found = await self.service.cancel(prediction_id) or prediction_id in self._canceled
        if found:
            self._canceled[prediction_id] = None
            if len(self._canceled) > _CANCELED_KEPT:
                del self._canceled[next(iter(self._canceled))]
        await respond(send, 200 if found else 404, b"{}")


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in (b"application/json", b"*/*") or media.endswith(b"+json")


def _parse(body: bytes, mode: Mode, path_id: str | None, signature: Signature) -> Request:
    try:
        payload = load_json_body(body)
    except InputValidationError as exc:
        raise _invalid(exc) from None
    if not isinstance(payload, dict):
        raise _invalid(body_not_object(payload))
    body_id = _string(payload, "id")
    if path_id is not None and body_id is not None and body_id != path_id:
        raise _invalid(request_validation_error(
            ("body", "id"), "prediction ID must match the ID supplied in the URL", "value_error"
        ))  # fmt: skip
    raw_input = payload.get("input")
    try:
        kwargs = validate_input(signature, raw_input)
    except InputValidationError as exc:
        raise _invalid(exc) from None
    return Request(
        id=path_id or body_id or new_id(),
        mode=mode,
        input={} if raw_input is None else echoed_input(signature, raw_input),
        kwargs=kwargs,
        webhook=_string(payload, "webhook"),
        webhook_events=_events(payload.get("webhook_events_filter")),
        output_file_prefix=_string(payload, "output_file_prefix"),
        context=_context(payload.get("context")),
    )


def _string(payload: dict[str, object], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(
            request_validation_error(("body", key), "Input should be a valid string", "string_type")
        )
    return value


def _context(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _invalid(
            request_validation_error(
                ("body", "context"), "must be an object of strings", "value_error"
            )
        )
    return {str(k): v for k, v in value.items()}


def _events(value: object) -> frozenset[str]:
    if value is None:
        return EVENT_TYPES
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v in EVENT_TYPES for v in value
    ):
        raise _invalid(request_validation_error(
            ("body", "webhook_events_filter"),
            "must be a list of: start, output, logs, completed",
            "value_error",
        ))  # fmt: skip
    return frozenset(value)


async def _stream(prediction: Prediction, receive: Receive, send: Send) -> None:
    replay, channel, skipped = prediction.events.subscribe()
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    try:
        if skipped:
            detail = "earlier events of this prediction were dropped from the replay buffer"
            # "message" and "skipped" as the reference sends them; "detail" says what to do.
            data = {"message": "SSE stream replay truncated", "skipped": skipped, "detail": detail}
            await send(
                {
                    "type": "http.response.body",
                    "body": sse_frame("error", data),
                    "more_body": True,
                }
            )
            return
        for event in replay:
            await send(
                {
                    "type": "http.response.body",
                    "body": sse_frame(event.name, event.data),
                    "more_body": True,
                }
            )
        if channel is not None:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_stop_on_disconnect, receive, nursery.cancel_scope)
                async for event in channel:
                    await send(
                        {
                            "type": "http.response.body",
                            "body": sse_frame(event.name, event.data),
                            "more_body": True,
                        }
                    )
                nursery.cancel_scope.cancel()
    finally:
        if channel is not None:
            prediction.events.unsubscribe(channel)
        with trio.CancelScope(shield=True):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _stop_on_disconnect(receive: Receive, scope: trio.CancelScope) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    scope.cancel()
