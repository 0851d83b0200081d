"""Webhooks: start and completed at once, output/logs throttled, completed retried.

Each prediction with a webhook gets one sender task, which only ever reads the
prediction's state: a slow or dead receiver delays its own webhooks and nothing else.

Each POST runs in a thread (requests honours the user's proxy and CA settings) with a
deadline that holds against a receiver that trickles its answer (runtime/_outbound.py):
a hung receiver holds a thread for at most ATTEMPT_TIMEOUT (plus the connect timeout).
Threads are limited per receiver (scheme, host and port), so receivers that hang delay
only the predictions that chose them, and a global cap bounds the threads: exhausting it
takes MAX_THREADS // PER_RECEIVER hostile receivers at once, and even then each slot is
back within one attempt's deadline. At shutdown the senders are canceled and their
threads abandoned; what was still to send is dropped with a log line.
"""

from __future__ import annotations

import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator, Callable

import trio

from cog import _net
from cog.runtime._outbound import CONNECT_TIMEOUT, aborted, call, session, shown_url
from cog.runtime._prediction import Prediction

log = logging.getLogger("cog.runtime")

ATTEMPT_TIMEOUT = _net.WEBHOOK_ATTEMPT_TIMEOUT  # one POST, all of it: connect, send, the answer
PER_RECEIVER = 8
MAX_THREADS = 64


class _Receivers:
    """The thread limits of one server (one trio run)."""

    def __init__(self) -> None:
        self.threads = trio.CapacityLimiter(MAX_THREADS)
        self._each: dict[str, tuple[trio.CapacityLimiter, int]] = {}

    @contextlib.asynccontextmanager
    async def slot(self, url: str) -> AsyncIterator[None]:
        parts = urllib.parse.urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}".lower()
        limiter, users = self._each.get(key) or (trio.CapacityLimiter(PER_RECEIVER), 0)
        self._each[key] = (limiter, users + 1)
        try:
            async with limiter:
                yield
        finally:
            limiter, users = self._each[key]
            if users == 1:
                del self._each[key]
            else:
                self._each[key] = (limiter, users - 1)


_RECEIVERS: trio.lowlevel.RunVar[_Receivers] = trio.lowlevel.RunVar("cog_webhooks")


def _receivers() -> _Receivers:
    try:
        return _RECEIVERS.get()
    except LookupError:
        receivers = _Receivers()
        _RECEIVERS.set(receivers)
        return receivers


def _never() -> bool:
    return False


def _post(url: str, body: dict[str, object], superseded: Callable[[], bool]) -> int | None:
    """POST the body; the HTTP status, or None when the receiver could not be reached.

    ``superseded``: whether this body no longer matters (a progress webhook of a prediction
    that has finished since). A receiver that hangs up on one then, like `cog run`'s log
    receiver once it has the final response, has not made anything fail.
    """
    import requests  # noqa: PLC0415 (imported after setup: Application.load_quart)

    try:
        with contextlib.ExitStack() as stack:  # one line per manager: Python 3.8
            sess = stack.enter_context(session())
            timeout = (CONNECT_TIMEOUT, ATTEMPT_TIMEOUT)
            response = stack.enter_context(sess.post(url, json=body, timeout=timeout))
            return response.status_code
    except requests.RequestException as exc:
        if aborted():  # given up on: the trio side has said so already
            return None
        if superseded():
            log.debug("webhook %s: receiver gone after the prediction ended", shown_url(url))
        else:
            log.warning("webhook %s failed: %s", shown_url(url), type(exc).__name__)
        return None


async def _send(
    url: str, body: dict[str, object], superseded: Callable[[], bool] = _never
) -> int | None:
    receivers = _receivers()
    async with receivers.slot(url):
        deadline = trio.current_time() + ATTEMPT_TIMEOUT
        try:
            return await call(
                _post, url, body, superseded, deadline=deadline, limiter=receivers.threads
            )
        except trio.TooSlowError:
            log.warning("webhook %s: no answer within %gs", shown_url(url), ATTEMPT_TIMEOUT)
        except Exception:  # a webhook URL is the client's: it must not stop the server
            log.warning("webhook %s failed", shown_url(url), exc_info=True)
        return None


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
    try:
        await _send_all(
            url, prediction, start_body, throttle=throttle, retries=retries, backoff=backoff
        )
    except trio.Cancelled:
        log.warning(
            "webhook %s: the server is shutting down; dropped the webhooks of prediction %s"
            " still to send (status %s)",
            shown_url(url),
            prediction.id,
            prediction.status,
        )
        raise


async def _send_all(
    url: str,
    prediction: Prediction,
    start_body: dict[str, object],
    *,
    throttle: float,
    retries: int,
    backoff: float,
) -> None:
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
        await _send(url, prediction.to_json(), prediction.done.is_set)
    if "completed" in wanted:
        await _send_completed(url, prediction.to_json(), retries, backoff)


async def _send_completed(url: str, body: dict[str, object], retries: int, backoff: float) -> None:
    delay = backoff
    for attempt in range(retries):
        status = await _send(url, body)
        if not _net.retryable(status):  # 429 is retried as a 5xx; None: no answer
            return
        if attempt + 1 < retries:
            await trio.sleep(delay)  # here, not in the seam: no thread waits out the backoff
            delay = _net.next_backoff(delay)
    log.error(
        "webhook %s: giving up on the completed event after %d attempts", shown_url(url), retries
    )
