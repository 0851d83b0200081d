"""A small client of the runtime's HTTP API, for the CLI's run/predict/train commands."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from cog import _net
from cog.errors import RunError


@dataclass(frozen=True)
class Health:
    status: str
    setup_logs: str
    raw: dict[str, Any]


class RuntimeClient:
    def __init__(self, base_url: str, client: _net.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = client or _net.Client(_net.local_server_policy())

    def health(self) -> Health | None:
        """The server's health, or None while it does not answer yet."""
        try:
            response = self.http.get(f"{self.base_url}/health-check", timeout=2)
        except requests.ConnectionError:
            return None
        except requests.Timeout:
            return None
        if response.status_code != 200:
            return None
        body = response.json()
        setup = body.get("setup") or {}
        return Health(status=body.get("status", ""), setup_logs=setup.get("logs") or "", raw=body)

    def wait_until_ready(
        self, timeout: float | None, still_running: Callable[[], bool], poll: float = 0.05
    ) -> Health:
        """Poll /health-check until setup has finished one way or the other."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            health = self.health()
            if health is not None and health.status in ("READY", "BUSY", "UNHEALTHY"):
                return health
            if health is not None and health.status in ("SETUP_FAILED", "DEFUNCT"):
                raise setup_failed(health.setup_logs)
            if not still_running():
                raise RunError("the model server exited before it was ready (see its output above)")
            if deadline is not None and time.monotonic() > deadline:
                raise RunError(
                    f"the model was not ready after {timeout:g} s",
                    "Give setup more time with --setup-timeout.",
                )
            time.sleep(poll)

    def predict(
        self, payload: dict[str, Any], endpoint: str = "predictions", setup_wait: float = 300.0
    ) -> dict[str, Any]:
        data = json.dumps(payload)
        deadline = time.monotonic() + setup_wait
        while True:
            response = self.http.post(
                f"{self.base_url}/{endpoint}",
                data=data,
                headers={"Content-Type": "application/json"},
                timeout=None,
            )
            # The training worker may still be in setup when health already says READY
            # for predictions: wait for it as for the first.
            if response.status_code != 503 or "not finished" not in response.text:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        body: dict[str, Any] = response.json()
        if response.status_code == 422:
            raise RunError(_render_422(body), "Check the inputs with `cog schema`.")
        if response.status_code >= 400:
            raise RunError(f"the model server answered {response.status_code}: {body}")
        return body

    def cancel(self, prediction_id: str, endpoint: str = "predictions") -> None:
        url = f"{self.base_url}/{endpoint}/{prediction_id}/cancel"
        # The server may already be gone; stopping the container follows anyway.
        with contextlib.suppress(requests.RequestException):
            self.http.post(url, timeout=5)


# The last line of a traceback: "RuntimeError: weights not found", "mod.Error: ...".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*$")


def setup_failed(logs: str) -> RunError:
    """The error for a failed setup. Its output (the logs) has streamed to the user's
    terminal as it printed, so the error names the failure and points there, once."""
    lines = [line.strip() for line in logs.splitlines()]
    named = next((line for line in reversed(lines) if _EXCEPTION_LINE.match(line)), None)
    return RunError(
        "the model's setup failed" + (f": {named}" if named else "") + " (its output is above)",
        "Fix setup() in your model and run again.",
    )


def _render_422(body: dict[str, Any]) -> str:
    lines = ["the model rejected the input:"]
    for issue in body.get("detail", []):
        loc = [str(part) for part in issue.get("loc", []) if part not in ("body", "input")]
        lines.append(f"  {'.'.join(loc) or 'input'}: {issue.get('msg', 'invalid')}")
    return "\n".join(lines)
