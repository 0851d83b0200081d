"""A receiver that hangs up on a logs webhook after the prediction ended is no failure.

`cog run` streams the model's logs through a webhook on 127.0.0.1 and closes that receiver
once it has the final response; a logs webhook still on its way then met a reset connection,
and the runtime warned "webhook ... failed" although nothing had failed.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration

GUARD = 30.0


class ResettingReceiver:
    """Takes each POST, holds it until ``release`` is set, then resets the connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/logs"
        self.received = threading.Event()
        self.release = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            self.received.set()
            self.release.wait(GUARD)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def close(self) -> None:
        self.release.set()
        self._listener.close()


@pytest.fixture
def receiver() -> Iterator[ResettingReceiver]:
    instance = ResettingReceiver()
    yield instance
    instance.close()


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _gone(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("webhook ")]


@pytest.mark.parametrize("ended", [True, False], ids=["after-the-end", "while-running"])
def test_a_logs_webhook_cut_off(
    server: ServerFactory,
    receiver: ResettingReceiver,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
    ended: bool,
) -> None:
    caplog.set_level(logging.DEBUG, logger="cog.runtime")
    srv = server("chatty.py:Predictor", throttle_interval=0.0)
    gate = tmp_path / "gate"
    result: dict[str, object] = {}

    def run() -> None:
        result["response"] = srv.predict(
            {
                "input": {"gate": str(gate)},
                "webhook": receiver.url,
                "webhook_events_filter": ["logs"],
            }
        )

    thread = threading.Thread(target=run)
    thread.start()
    assert receiver.received.wait(GUARD), "no logs webhook arrived"
    if ended:
        gate.touch()
        thread.join(GUARD)
        receiver.release.set()
    else:
        receiver.release.set()
    _until(lambda: bool(_gone(caplog)), "the failed webhook was never reported")
    gate.touch()
    thread.join(GUARD)
    response = result["response"]
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert response.json()["output"] == ["hello", " world"]  # type: ignore[attr-defined]
    (record,) = _gone(caplog)[:1]
    if ended:
        assert (record.levelno, record.getMessage()) == (
            logging.DEBUG,
            f"webhook {receiver.url}: receiver gone after the prediction ended",
        )
    else:
        assert record.levelno == logging.WARNING
        assert record.getMessage() == f"webhook {receiver.url} failed: ConnectionError"
