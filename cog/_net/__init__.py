"""The one HTTP seam of rules/ and runtime/ (ARCHITECTURE.md, "Layers").

Every outbound request of a build, a lock, a push or pull, and of the in-image server goes
through a ``Client``: its ``Policy`` (``_policy.py``) owns the timeouts, the CA bundle, the
client certificate, whether proxies come from the environment, and retries; its transport
(``_transport.py``) moves the bytes and can be replaced, so tests drive a client with a
``MockTransport`` whose handler answers each request, no server needed. ``file://`` URLs
read files through the same client.

Both rules/ and runtime/ import this package (tests/test_layering.py allows it); the
worker side never does. It imports requests, so the runtime imports it only after setup.
"""

from __future__ import annotations

from ._client import Client
from ._policy import (
    FETCH_TIMEOUT,
    INDEX_TIMEOUT,
    OUTBOUND_CONNECT_TIMEOUT,
    OUTBOUND_TIMEOUT,
    REGISTRY_TIMEOUT,
    Cert,
    Policy,
    Timeout,
    Verify,
    fetch_policy,
    index_policy,
    is_loopback,
    next_backoff,
    outbound_policy,
    pip_ca_bundle,
    registry_ca_bundle,
    registry_policy,
    retryable,
)
from ._transport import (
    FileTransport,
    HTTPTransport,
    MockTransport,
    Request,
    file_url_path,
    response,
)

__all__ = [
    "FETCH_TIMEOUT",
    "INDEX_TIMEOUT",
    "OUTBOUND_CONNECT_TIMEOUT",
    "OUTBOUND_TIMEOUT",
    "REGISTRY_TIMEOUT",
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
    "next_backoff",
    "outbound_policy",
    "pip_ca_bundle",
    "registry_ca_bundle",
    "registry_policy",
    "response",
    "retryable",
]
