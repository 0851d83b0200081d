"""Hostile request bodies are a 422 in the contract's shape, and outputs that cannot be
written as JSON fail their own prediction with a clear error: never a bare 500, never an
empty body, and the server keeps serving.

Each body is sent twice: as a simple request (the fast path in runtime/_fastpath.py) and
with ``Connection: close`` (which only Hypercorn's h11 path takes).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration

VALID = b'{"input": {"text": "ok"}'

BODIES = {
    "1000-deep arrays": VALID + b', "extra": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    "1000-deep input": b'{"input": {"text": "x", "n": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000
    + b"}}",
    "300-deep objects": VALID + b', "extra": ' + b'{"a": ' * 300 + b"1" + b"}" * 300 + b"}",
    "5000-digit integer": VALID + b', "n": ' + b"9" * 5000 + b"}",
    "5000-digit input": b'{"input": {"text": ' + b"1" * 5000 + b"}}",
    "invalid UTF-8": b'{"input": {"text": "\xff\xfe"}}',
    "lone surrogate escape": b'{"input": {"text": "\\ud800"}}',
    "lone low surrogate escape": b'{"input": {"text": "a\\udc00b"}}',
    "reversed pair": b'{"input": {"text": "\\ude00\\ud83d"}}',
    "surrogate in a key": b'{"input": {"text": "ok"}, "\\ud800": 1}',
    "raw surrogate bytes": b'{"input": {"text": "\xed\xa0\x80"}}',
}  # fmt: skip
PATHS = {"fast path": {}, "h11": {"Connection": "close"}}


def _post(url: str, body: bytes, headers: dict[str, str], path: str = "/predictions") -> Any:
    return requests.post(
        url + path,
        data=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )


def _assert_contract_422(response: requests.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, (response.status_code, response.content[:200])
    assert response.headers["content-type"] == "application/json"
    detail: list[dict[str, Any]] = response.json()["detail"]
    assert detail
    for entry in detail:
        assert set(entry) == {"loc", "msg", "type"}
        assert entry["loc"][0] == "body"
        assert isinstance(entry["msg"], str)
        assert entry["msg"]
    return detail


def _still_serving(url: str) -> None:
    response = requests.post(url + "/predictions", json={"input": {"text": "ok"}}, timeout=60)
    assert response.status_code == 200
    assert response.json()["output"] == "ok"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", BODIES)
def test_hostile_body_is_a_contract_422(shared: ServerFactory, name: str, path: str) -> None:
    srv = shared("echo.py:Runner")
    _assert_contract_422(_post(srv.url, BODIES[name], PATHS[path]))
    _still_serving(srv.url)


@pytest.mark.parametrize("path", PATHS)
def test_hostile_body_on_put_is_a_contract_422(shared: ServerFactory, path: str) -> None:
    srv = shared("echo.py:Runner")
    for name in ("1000-deep arrays", "5000-digit integer", "lone surrogate escape"):
        response = requests.put(
            srv.url + "/predictions/hostile-put",
            data=BODIES[name],
            headers={"Content-Type": "application/json", **PATHS[path]},
            timeout=60,
        )
        _assert_contract_422(response)
    _still_serving(srv.url)


def test_the_422_says_what_is_wrong_and_where(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    deep = _assert_contract_422(_post(srv.url, BODIES["1000-deep arrays"], {}))
    assert "nested" in deep[0]["msg"]
    digits = _assert_contract_422(_post(srv.url, BODIES["5000-digit integer"], {}))
    assert "digits" in digits[0]["msg"]
    surrogate = _assert_contract_422(_post(srv.url, BODIES["lone surrogate escape"], {}))
    assert surrogate[0]["loc"] == ["body", "input", "text"]
    assert "surrogate" in surrogate[0]["msg"]


def test_valid_unicode_still_passes(shared: ServerFactory) -> None:
    srv = shared("echo.py:Runner")
    for body, text in [
        (b'{"input": {"text": "\\ud83d\\ude00"}}', "\U0001f600"),
        ('{"input": {"text": "한국어 ünïcödé \U0001f600"}}'.encode(), "한국어 ünïcödé \U0001f600"),
        (b'{"input": {"text": "ok"}, "extra": ' + b"[" * 100 + b"]" * 100 + b"}", "ok"),
        (b'{"input": {"text": "ok"}, "n": ' + b"9" * 4000 + b"}", "ok"),
    ]:
        for headers in PATHS.values():
            response = _post(srv.url, body, headers)
            assert response.status_code == 200, response.content[:300]
            assert response.json()["output"] == text


# Outputs (and errors) that cannot be written as JSON


@pytest.mark.parametrize(
    ("ref", "says", "output"),
    [
        ("hostile_outputs.py:LoneSurrogate", "lone surrogate '\\ud800'", None),
        ("hostile_outputs.py:SurrogateKey", "lone surrogate '\\udfff'", None),
        ("hostile_outputs.py:SurrogateChunk", "lone surrogate '\\udc80'", ["fine"]),
        ("hostile_outputs.py:AsyncSurrogate", "lone surrogate '\\ud83d'", None),
        ("hostile_outputs.py:Circular", "contains itself", None),
        ("hostile_outputs.py:HugeInt", "more than 4300 digits", None),
    ],
)
def test_an_output_that_cannot_be_encoded_fails_its_prediction(
    server: ServerFactory, ref: str, says: str, output: object
) -> None:
    srv = server(ref)
    response = srv.predict({"input": {}})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["status"] == "failed"
    assert says in body["error"]
    assert body["error"].startswith("the output cannot be written as JSON")
    assert body["output"] == output  # what was streamed before stays
    assert srv.health()["status"] == "READY"
    again = srv.predict({"input": {}})
    assert again.status_code == 200
    assert again.json()["status"] == "failed"


def test_an_error_message_with_a_lone_surrogate_is_still_reported(
    server: ServerFactory,
) -> None:
    srv = server("hostile_outputs.py:SurrogateError")
    response = srv.predict({"input": {}})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["status"] == "failed"
    assert body["error"] == "broken \\ud800 text"
    assert "printed \\udc00 half a pair" in body["logs"]
