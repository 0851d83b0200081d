"""Webhooks: start and completed at once, output/logs throttled, completed retried.

Each prediction with a webhook gets one sender task. It sends from a worker thread and
only ever reads the prediction's state, so a slow or dead receiver delays its own
webhooks and nothing else.
"""

from __future__ import annotations

import logging

import trio
from cog.runtime._prediction import Prediction

log = logging.getLogger("cog.runtime")

_LIMITER = trio.CapacityLimiter(8)
_TIMEOUT = 10.0


def _post(url: str, body: dict[str, object]) -> int | None:
    """POST the body; the HTTP status, or None when the receiver could not be reached."""
    import requests  # noqa: PLC0415 (imported after setup: Application.load_quart)

    try:
        response = requests.post(url, json=body, timeout=_TIMEOUT)
    except requests.RequestException as exc:
        log.warning("webhook %s failed: %s", url, exc)
        return None
    response.close()
    return response.status_code


async def _send(url: str, body: dict[str, object]) -> int | None:
    return await trio.to_thread.run_sync(_post, url, body, limiter=_LIMITER)


async def send_webhooks(
    prediction: Prediction,
    start_body: dict[str, object],
    throttle: float,
    retries: int,
    backoff: float,
) -> None:
    """``start_body``: the prediction as it was created (status starting)."""
    url = prediction.request.webhook
    if url is None:
        return
    wanted = prediction.request.webhook_events
    if "start" in wanted:
        await _send(url, start_body)
    last = trio.current_time() - throttle
    progress = wanted & {"output", "logs"}
    while not prediction.done.is_set():
        await prediction.changed.wait()
        prediction.changed = trio.Event()
        if prediction.done.is_set():
            break
        if not progress:
            continue
        wait = last + throttle - trio.current_time()
        if wait > 0:
            with trio.move_on_after(wait):
                await prediction.done.wait()
        if prediction.done.is_set():
            break
        last = trio.current_time()
        await _send(url, prediction.to_json())
    if "completed" in wanted:
        await _send_completed(url, prediction.to_json(), retries, backoff)


async def _send_completed(url: str, body: dict[str, object], retries: int, backoff: float) -> None:
    delay = backoff
    for attempt in range(retries):
        status = await _send(url, body)
        if status is not None and status < 500:
            return
        if attempt + 1 < retries:
            await trio.sleep(delay)
            delay = min(delay * 2, 8.0)
    log.error("webhook %s: giving up on the completed event after %d attempts", url, retries)
