"""The one HTTP seam of rules/ and runtime/ (ARCHITECTURE.md, "Layers").

Every outbound request of a build, a lock, a push or pull, and of the in-image server goes
through a ``Client``: its ``Policy`` (``_policy.py``) owns the timeouts, the CA bundle, the
client certificate, whether proxies come from the environment, and retries; its transport
(``_transport.py``) moves the bytes and can be replaced, so tests drive a client with a
``MockTransport`` whose handler answers each request, no server needed. ``file://`` URLs
read files through the same client.

Both rules/ and runtime/ import this package (tests/test_layering.py allows it); the
worker side never does. The policies import only the standard library; ``Client`` and
the transports (which import requests) load on first use, so the in-image server can read
its timeouts at start-up and still import requests only after setup.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ._policy import (
    FETCH_TIMEOUT,
    INDEX_TIMEOUT,
    LOCAL_SERVER_TIMEOUT,
    OUTBOUND_CONNECT_TIMEOUT,
    OUTBOUND_TIMEOUT,
    REGISTRY_TIMEOUT,
    WEBHOOK_ATTEMPT_TIMEOUT,
    Cert,
    Policy,
    Timeout,
    Verify,
    fetch_policy,
    index_policy,
    is_loopback,
    local_server_policy,
    next_backoff,
    outbound_policy,
    pip_ca_bundle,
    registry_ca_bundle,
    registry_policy,
    retryable,
)

if TYPE_CHECKING:
    from ._client import Client
    from ._transport import (
        FileTransport,
        HTTPTransport,
        MockTransport,
        Request,
        file_url_path,
        response,
    )

_LAZY = {
    "Client": "._client",
    "FileTransport": "._transport",
    "HTTPTransport": "._transport",
    "MockTransport": "._transport",
    "Request": "._transport",
    "file_url_path": "._transport",
    "response": "._transport",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FETCH_TIMEOUT",
    "INDEX_TIMEOUT",
    "LOCAL_SERVER_TIMEOUT",
    "OUTBOUND_CONNECT_TIMEOUT",
    "OUTBOUND_TIMEOUT",
    "REGISTRY_TIMEOUT",
    "WEBHOOK_ATTEMPT_TIMEOUT",
    "Cert",
    "Client",
    "FileTransport",
    "HTTPTransport",
    "MockTransport",
    "Policy",
    "Request",
    "Timeout",
    "Verify",
    "fetch_policy",
    "file_url_path",
    "index_policy",
    "is_loopback",
    "local_server_policy",
    "next_backoff",
    "outbound_policy",
    "pip_ca_bundle",
    "registry_ca_bundle",
    "registry_policy",
    "response",
    "retryable",
]
