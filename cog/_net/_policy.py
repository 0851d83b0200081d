"""What each HTTP user of cog gets: timeouts, CA bundle, client certificate, proxies, retries.

Every timeout and every CA-bundle rule lives here, one policy per kind of traffic, so the
choices can be read (and tested) side by side:

- ``fetch_policy``: a build's downloads of pinned files (rules/fetch.py).
- ``index_policy``: lock-time reads of package indexes and apt archives
  (rules/debian/index_fetch.py).
- ``registry_policy``: one OCI registry's API (rules/registry/_api.py).
- ``local_server_policy``: the CLI's calls to the model server it started
  (cog/_container/api_client.py).
- ``outbound_policy``: the in-image server's file-input downloads, uploads and webhooks
  (runtime/_outbound.py), whose per-call timeouts its callers bound further (a webhook
  attempt by WEBHOOK_ATTEMPT_TIMEOUT, a download or upload by COG's settings).

This module imports only the standard library (it must import on Python 3.8).
"""

from __future__ import annotations

import ipaddress
import os
import ssl
import typing
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

# Aliases evaluated at import: typing's spellings, for Python 3.8.
Timeout = typing.Tuple[float, float]  # noqa: UP006 (connect, read) seconds, as requests takes them
Verify = typing.Union[bool, str]  # noqa: UP007 True: default CA store; False: no check; str: a bundle
Cert = typing.Union[str, typing.Tuple[str, str]]  # noqa: UP006, UP007 a client cert (and its key)

FETCH_TIMEOUT: Timeout = (10.0, 60.0)
INDEX_TIMEOUT: Timeout = (5.0, 30.0)
REGISTRY_TIMEOUT: Timeout = (3.0, 120.0)
LOCAL_SERVER_TIMEOUT: Timeout = (2.0, 2.0)  # a health check of the server cog run started
OUTBOUND_CONNECT_TIMEOUT = 10.0
OUTBOUND_TIMEOUT: Timeout = (OUTBOUND_CONNECT_TIMEOUT, 30.0)  # a file input's socket reads
WEBHOOK_ATTEMPT_TIMEOUT = 10.0  # one webhook POST, all of it: connect, send, the answer
REGISTRY_SEND_BLOCK = 1024 * 1024

# Methods whose repetition does no harm (urllib3's default list, less TRACE).
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Policy:
    """How one client talks HTTP.

    ``verify`` None leaves the CA store to requests (certifi's bundle, or the one that
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE name). ``verify_over_env``: send ``verify`` with
    each request, so it outranks those variables (requests lets them override a
    session-wide choice). ``trust_env``: proxies (HTTP(S)_PROXY, NO_PROXY) and netrc from
    the environment. ``retries``: further attempts of an idempotent request with a
    replayable body after a connection error or an answer ``retryable`` names, ``backoff``
    seconds apart, doubling, at most ``max_backoff``.
    """

    timeout: Timeout
    verify: Verify | None = None
    verify_over_env: bool = False
    cert: Cert | None = None
    trust_env: bool = True
    cookies: bool = True
    user_agent: str | None = None
    retries: int = 0
    backoff: float = 0.5
    max_backoff: float = 8.0
    pool_size: int = 10
    block_size: int | None = None  # bytes per socket send of a streamed body
    files: bool = True  # file:// URLs read local files (never for URLs a client sent)

    def with_(self, **changes: object) -> Policy:
        return replace(self, **changes)  # type: ignore[arg-type]


def retryable(status: int | None) -> bool:
    """Whether an answer (None: none came) is worth another attempt: a 5xx or 429."""
    return status is None or status == 429 or status >= 500


def next_backoff(delay: float, cap: float = 8.0) -> float:
    return min(delay * 2, cap)


def is_loopback(host_port: str) -> bool:
    """Whether ``host[:port]`` names this machine (nothing between us can listen in)."""
    host = urlsplit(f"//{host_port}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pip_ca_bundle(env: Mapping[str, str]) -> str | None:
    """The CA bundle pip is configured with (a TLS-intercepting proxy's CA lives there):
    the first of REQUESTS_CA_BUNDLE, SSL_CERT_FILE, PIP_CERT that is a file."""
    for var in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "PIP_CERT"):
        bundle = env.get(var)
        if bundle and Path(bundle).is_file():
            return bundle
    return None


def registry_ca_bundle(registry: str, ca_file: Path | None, env: Mapping[str, str]) -> Verify:
    """The one given, the registry's certs.d entry, SSL_CERT_FILE, the system's.

    requests alone would use certifi's bundle and ignore the system's CAs.
    """
    if ca_file is not None:
        return str(ca_file)
    home = Path(env.get("HOME") or Path.home())
    for certs_d in (
        Path("/etc/docker/certs.d"),
        Path("/etc/containers/certs.d"),
        home / ".config" / "containers" / "certs.d",
    ):
        candidate = certs_d / registry / "ca.crt"
        if candidate.is_file():
            return str(candidate)
    for value in (env.get("SSL_CERT_FILE"), ssl.get_default_verify_paths().cafile):
        if value and Path(value).is_file():
            return value
    return True


def fetch_policy(env: Mapping[str, str] | None = None) -> Policy:
    """A pinned file is fetched with GET, so a 5xx, a 429 or a refused connection (an
    index's CDN having a bad second) is tried twice more, 0.5 and 1 s later, before the
    next URL or the error."""
    env = os.environ if env is None else env
    return Policy(FETCH_TIMEOUT, verify=pip_ca_bundle(env), retries=2)


def index_policy() -> Policy:
    return Policy(INDEX_TIMEOUT)


def registry_policy(
    registry: str,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    pool_size: int = 10,
    env: Mapping[str, str] | None = None,
) -> Policy:
    """Registry cookies ignored (as oras-py does), never a proxy for loopback traffic,
    no retries (a dead registry fails within the connect timeout), 1 MiB send blocks."""
    env = os.environ if env is None else env
    return Policy(
        REGISTRY_TIMEOUT,
        verify=False if insecure else registry_ca_bundle(registry, ca_file, env),
        verify_over_env=True,
        trust_env=not is_loopback(registry),
        cookies=False,
        pool_size=max(pool_size, 4),
        block_size=REGISTRY_SEND_BLOCK,
    )


def local_server_policy() -> Policy:
    """The CLI's calls to the model server it started on this machine: never through a
    proxy (requests would send 127.0.0.1 to HTTP_PROXY unless NO_PROXY names it), no
    file:// URLs; callers give each call its own timeout."""
    return Policy(LOCAL_SERVER_TIMEOUT, trust_env=False, files=False)


def outbound_policy(user_agent: str) -> Policy:
    """URLs here are a prediction client's own: a file:// one must never read the image's
    files (requests refuses it: no adapter for the scheme)."""
    return Policy(OUTBOUND_TIMEOUT, user_agent=user_agent, files=False)
