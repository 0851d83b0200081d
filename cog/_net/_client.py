"""``Client``: a requests session configured by a ``Policy``, over a replaceable transport."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import requests.adapters

from ._policy import IDEMPOTENT, Policy, next_backoff, retryable
from ._transport import FileTransport, HTTPTransport


class Client:
    """HTTP (and ``file://``) for one kind of traffic; thread-safe as requests' sessions
    are in practice for sending (give each thread its own where that matters).

    ``transport`` replaces the http/https adapter (tests pass a MockTransport); errors are
    requests' own exceptions, as callers have always caught them.
    """

    def __init__(
        self,
        policy: Policy,
        *,
        transport: requests.adapters.BaseAdapter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        session = requests.Session()
        session.trust_env = policy.trust_env
        if not policy.cookies:
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        if policy.user_agent is not None:
            session.headers["User-Agent"] = policy.user_agent
        if policy.verify is not None and not policy.verify_over_env:
            session.verify = policy.verify
        if policy.cert is not None:
            session.cert = policy.cert
        self.transport = transport or HTTPTransport(
            pool_size=policy.pool_size, block_size=policy.block_size
        )
        session.mount("https://", self.transport)
        session.mount("http://", self.transport)
        if policy.files:
            session.mount("file://", FileTransport())
        self.session = session

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """``requests.Session.request`` with the policy's timeout (unless ``timeout`` is
        given), CA choice and retries."""
        kwargs.setdefault("timeout", self.policy.timeout)
        if self.policy.verify is not None and self.policy.verify_over_env:
            kwargs.setdefault("verify", self.policy.verify)
        attempts = 1
        if method.upper() in IDEMPOTENT and _replayable(kwargs):
            attempts += max(0, self.policy.retries)
        delay = self.policy.backoff
        for attempt in range(attempts):
            last = attempt + 1 == attempts
            try:
                resp = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if last:
                    raise
            else:
                if last or not retryable(resp.status_code):
                    return resp
                resp.close()
            self._sleep(delay)
            delay = next_backoff(delay, self.policy.max_backoff)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("HEAD", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", url, **kwargs)


def _replayable(kwargs: dict[str, Any]) -> bool:
    """Whether sending the same arguments again sends the same body (not a spent stream)."""
    if kwargs.get("files") is not None:
        return False
    data = kwargs.get("data")
    return data is None or isinstance(data, (bytes, str, dict, list, tuple))
