"""One prediction's state on the server side, and the events it emits (SSE, webhooks)."""

from __future__ import annotations

import collections
import datetime
import math
import time
from dataclasses import dataclass, field

import trio

from cog._compat import SLOTS
from cog._sdk.value_types import REDACTED
from cog._signature.model import Mode, Primitive, Signature

EVENT_TYPES = frozenset({"start", "output", "logs", "completed"})


_last_id = 0


def new_id() -> str:
    """An id for a prediction the client named none for, as the reference makes them:
    ``pred_`` and the time in nanoseconds since the epoch, in hex. Strictly increasing
    here, so that two predictions in the same nanosecond (or after the clock stepped
    back) still get two ids."""
    global _last_id  # noqa: PLW0603 (one counter per server process)
    _last_id = max(time.time_ns(), _last_id + 1)
    return f"pred_{_last_id:x}"


def now() -> str:
    utc = datetime.timezone.utc  # noqa: UP017 (datetime.UTC is 3.11+; images run 3.8+)
    return datetime.datetime.now(utc).isoformat(timespec="microseconds")


_SECRET_FIELDS: dict[int, tuple[Signature, frozenset[str]]] = {}


def _secret_fields(signature: Signature) -> frozenset[str]:
    # Keyed by identity (a server has one or two signatures; the entry keeps it alive).
    cached = _SECRET_FIELDS.get(id(signature))
    if cached is None or cached[0] is not signature:
        names = frozenset(
            spec.name for spec in signature.inputs if spec.type.primitive is Primitive.SECRET
        )
        cached = _SECRET_FIELDS[id(signature)] = (signature, names)
    return cached[1]


def _redact(value: object) -> object:
    if isinstance(value, str):
        return REDACTED
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value  # None (an Optional Secret left empty)


def echoed_input(signature: Signature, raw: dict[str, object]) -> dict[str, object]:
    """The request's input as every response, event and webhook shows it: Secrets redacted.

    The reference shows a Secret as ``**********`` wherever the prediction's input is
    echoed; the model still gets the value (from the typed kwargs).
    """
    secrets = _secret_fields(signature)
    if not secrets or secrets.isdisjoint(raw):
        return raw
    return {k: _redact(v) if k in secrets else v for k, v in raw.items()}


@dataclass(frozen=True, **SLOTS)
class Event:
    name: str  # start, output, log, metric, completed
    data: object


@dataclass(frozen=True, **SLOTS)
class Request:
    """What the client asked for, validated."""

    id: str
    mode: Mode
    input: dict[str, object]  # as the client sent it, Secrets redacted (echoed back)
    kwargs: dict[str, object]  # typed, defaults filled, file inputs still URLs
    webhook: str | None = None
    webhook_events: frozenset[str] = EVENT_TYPES
    output_file_prefix: str | None = None
    context: dict[str, str] = field(default_factory=dict)

    def same_input(self, other: Request) -> bool:
        # The echoed inputs hide Secrets: their values are compared through the kwargs.
        return self.input == other.input and self.kwargs == other.kwargs


class EventLog:
    """Live fan-out to subscribers plus a bounded history for reconnecting clients.

    Capacity 0 (COG_STREAM_HISTORY_CAPACITY=0) keeps no history and so drops nothing a
    subscriber should hear of: one that joins late gets the events from then on, with
    ``completed`` last, as the reference's (no "replay truncated" error).
    """

    def __init__(self, capacity: int) -> None:
        self._history: collections.deque[Event] = collections.deque(maxlen=capacity)
        self._total = 0
        self._subscribers: list[trio.MemorySendChannel[Event]] = []
        self._closed = False
        self._completed: Event | None = None

    def emit(self, event: Event) -> None:
        if self._history.maxlen:
            self._total += 1
            self._history.append(event)
        for channel in self._subscribers:
            channel.send_nowait(event)
        if event.name == "completed":
            self._closed = True
            self._completed = event
            for channel in self._subscribers:
                channel.close()
            self._subscribers.clear()

    def subscribe(self) -> tuple[list[Event], trio.MemoryReceiveChannel[Event] | None, int]:
        """(replayed events, live channel or None when already completed, events skipped)."""
        replay = list(self._history)
        skipped = self._total - len(replay)
        if not replay and self._completed is not None:
            replay = [self._completed]  # no history kept: the end is still told
        if self._closed:
            return replay, None, skipped
        send, receive = trio.open_memory_channel[Event](math.inf)
        self._subscribers.append(send)
        return replay, receive, skipped

    def unsubscribe(self, receive: trio.MemoryReceiveChannel[Event]) -> None:
        receive.close()


class Prediction:
    def __init__(self, request: Request, history_capacity: int) -> None:
        self.request = request
        self.id = request.id
        self.status = "starting"
        self.output: object = None
        self.chunks: list[object] | None = None
        self.error: str | None = None
        self.logs: list[str] = []
        self.metrics: dict[str, object] = {}
        self.created_at = now()
        self.started_at: str | None = None
        self.completed_at: str | None = None
        self.events = EventLog(history_capacity)
        self.done = trio.Event()
        # Cancel scopes to cancel on completion: a waiting handler wakes without a task
        # of its own to watch ``done``.
        self.done_scopes: list[trio.CancelScope] = []
        self.changed = trio.Event()
        self.cancel_requested = False

    def _touch(self) -> None:
        self.changed.set()

    def start(self) -> None:
        self.status = "processing"
        self.started_at = now()
        self.events.emit(Event("start", {"id": self.id, "status": self.status}))

    def add_log(self, source: str, data: str) -> None:
        self.logs.append(data)
        self.events.emit(Event("log", {"source": source, "data": data}))
        self._touch()

    def add_chunk(self, index: int, chunk: object) -> None:
        if self.chunks is None:
            self.chunks = []
        self.chunks.append(chunk)
        self.events.emit(Event("output", {"chunk": chunk, "index": index}))
        self._touch()

    def add_metric(self, name: str, value: object, mode: str) -> None:
        # On the wire the reference names the SDK's "incr" mode "increment".
        wire_mode = "increment" if mode == "incr" else mode
        self.events.emit(Event("metric", {"name": name, "value": value, "mode": wire_mode}))

    def complete(
        self,
        status: str,
        output: object,
        error: str | None,
        metrics: dict[str, object],
        predict_time: float | None,
    ) -> None:
        if self.done.is_set():
            return
        self.status = status
        self.output = output
        self.error = error
        self.metrics = dict(metrics)
        if predict_time is not None:
            self.metrics["predict_time"] = predict_time
        if self.started_at is None:
            self.started_at = now()
        self.completed_at = now()
        self.events.emit(Event("completed", self.to_json()))
        self.done.set()
        for scope in self.done_scopes:
            scope.cancel()
        self.done_scopes.clear()
        self._touch()

    def to_json(self) -> dict[str, object]:
        output = self.output
        if output is None and self.chunks is not None:
            output = self.chunks
        body: dict[str, object] = {
            "id": self.id,
            "input": self.request.input,
            "output": output,
            "error": self.error,
            "status": self.status,
            "logs": "".join(self.logs),
            "metrics": self.metrics,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }
        if self.request.webhook is not None:
            body["webhook"] = self.request.webhook
        return body
