"""A model may return the request's context (current_scope().context), as published ones do."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import ServerFactory

pytestmark = pytest.mark.integration


def test_the_context_is_the_output(shared: ServerFactory) -> None:
    srv = shared("context.py:Predictor")
    body = srv.predict({"input": {}, "context": {"user": "ada", "plan": "pro"}}).json()
    assert (body["status"], body["output"], body["error"]) == (
        "succeeded",
        {"user": "ada", "plan": "pro"},
        None,
    )
    assert srv.predict({"input": {}}).json()["output"] == {}
