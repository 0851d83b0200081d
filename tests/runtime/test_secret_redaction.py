"""A Secret input's value never comes back: not in a response, an event, a webhook or a 422.

The model still gets the real values: it returns them reversed, which proves it without
echoing them.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
import requests

from tests.runtime.conftest import HelperServer, Server, ServerFactory

pytestmark = pytest.mark.integration

REDACTED = "**********"
SECRETS = {
    "token": "tok-9f2c-SECRET",
    "maybe": "maybe-77aa-SECRET",
    "many": ["many-0-SECRET", "many-1-SECRET"],
    "fallback": "fallback-given-SECRET",
}


def _leaks(text: str) -> bool:
    """Whether ``text`` holds any secret value as sent (outputs hold them reversed)."""
    return "SECRET" in text


def _redacted_input() -> dict[str, Any]:
    return {
        "token": REDACTED,
        "maybe": REDACTED,
        "many": [REDACTED, REDACTED],
        "fallback": REDACTED,
    }


def _expected_output(values: dict[str, Any]) -> str:
    order = [values["token"], values["maybe"], values["fallback"], *values["many"]]
    return "|".join(v[::-1] for v in order)


def test_sync_response_redacts_every_secret_and_the_model_gets_them(
    shared: ServerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    srv = shared("secrets.py:SecretRunner")
    response = srv.predict({"input": SECRETS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "succeeded"
    assert body["input"] == _redacted_input()
    assert body["output"] == _expected_output(SECRETS)
    assert not _leaks(response.text)
    assert not any(_leaks(record.getMessage()) for record in caplog.records)


def test_optional_secret_null_and_defaults_are_not_invented(shared: ServerFactory) -> None:
    srv = shared("secrets.py:SecretRunner")
    response = srv.predict({"input": {"token": "only-SECRET", "maybe": None}})
    body = response.json()
    assert body["input"] == {"token": REDACTED, "maybe": None}
    # The model gets its default (the reference redacts only what was sent).
    assert body["output"] == "TERCES-ylno|-|eulav-tluafed-kcabllaf"
    assert not _leaks(response.text)


def _wait_for_completed_webhook(helper: HelperServer) -> list[bytes]:
    deadline = time.monotonic() + 30
    while True:
        bodies = [body for _, _, _, body in helper.recorded.of("/webhook")]
        if any(json.loads(b)["status"] == "succeeded" for b in bodies):
            return bodies
        assert time.monotonic() < deadline, bodies
        time.sleep(0.02)


def test_async_put_and_webhooks_redact_secrets(server: ServerFactory, helper: HelperServer) -> None:
    srv = server("secrets.py:SecretRunner")
    payload = {"input": {**SECRETS, "wait": 1.0}, "webhook": helper.url + "/webhook"}
    accepted = requests.put(
        srv.url + "/predictions/s1", json=payload, headers={"Prefer": "respond-async"}, timeout=30
    )
    assert accepted.status_code == 202
    assert accepted.json()["input"] == {**_redacted_input(), "wait": 1.0}
    assert not _leaks(accepted.text)
    # A retry with the same id and input joins the running prediction.
    joined = requests.put(srv.url + "/predictions/s1", json=payload, timeout=30)
    assert joined.status_code == 200
    assert joined.json()["output"] == _expected_output(SECRETS)
    assert not _leaks(joined.text)
    bodies = _wait_for_completed_webhook(helper)
    assert len(bodies) >= 2
    for raw in bodies:
        assert not _leaks(raw.decode())
        assert json.loads(raw)["input"]["token"] == REDACTED


def test_put_with_another_secret_value_is_not_the_same_prediction(server: ServerFactory) -> None:
    srv = server("secrets.py:SecretRunner")
    first = {"input": {"token": "a-SECRET", "wait": 30.0}}
    accepted = requests.put(
        srv.url + "/predictions/s2", json=first, headers={"Prefer": "respond-async"}, timeout=30
    )
    assert accepted.status_code == 202
    other = {"input": {"token": "b-SECRET", "wait": 30.0}}
    conflict = requests.put(srv.url + "/predictions/s2", json=other, timeout=30)
    assert conflict.status_code == 422
    assert "already running" in conflict.json()["detail"][0]["msg"]
    assert not _leaks(conflict.text)
    requests.post(srv.url + "/predictions/s2/cancel", timeout=30)


def test_sse_events_redact_secrets(shared: ServerFactory) -> None:
    srv: Server = shared("secrets.py:SecretStream")
    response = requests.post(
        srv.url + "/predictions",
        json={"input": {"token": "stream-SECRET"}},
        headers={"Accept": "text/event-stream"},
        timeout=30,
    )
    assert response.status_code == 200
    assert "event: completed" in response.text
    assert "TERCES-maerts" in response.text  # the model's output
    assert not _leaks(response.text)


@pytest.mark.parametrize(
    "bad",
    [
        {"token": "t-SECRET", "many": "list-given-a-string-SECRET"},
        {"token": "t-SECRET", "many": ["ok-SECRET", 7]},
        {"token": 12345, "maybe": "m-SECRET"},
        {"token": ["in-a-list-SECRET"]},
        {"token": {"k": "in-an-object-SECRET"}},
    ],
    ids=[
        "list-given-string",
        "list-item-wrong",
        "secret-given-number",
        "secret-given-list",
        "secret-given-object",
    ],
)
def test_422_never_echoes_a_secret(shared: ServerFactory, bad: dict[str, Any]) -> None:
    srv = shared("secrets.py:SecretRunner")
    response = srv.predict({"input": bad})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert not _leaks(response.text), response.text
