"""One registry's HTTP API: scheme and TLS choice, authorisation, errors that name the registry.

Built on the seam (cog/_net) rather than oras-py's ``Registry.do_request``: that method
is wrapped in a retry decorator that sleeps 3**attempt seconds up to five times (minutes
on a dead registry), its TokenAuth cannot answer a Basic challenge, and importing oras
costs 0.5 s, more than a whole re-push of an unchanged image. ``registry_policy`` sets the
client up as oras-py configures its own session (registry cookies ignored), with short
connect timeouts; ``transport`` lets unit tests answer for the registry.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urljoin

import requests
import requests.adapters
from urllib3.exceptions import InsecureRequestWarning

from cog import _net
from cog._net import is_loopback
from cog.errors import RegistryError

from ._challenge import Authenticator, refused
from ._dockerconfig import Credentials, read_credentials

CONNECT_TIMEOUT_S, READ_TIMEOUT_S = _net.REGISTRY_TIMEOUT
_READ_BLOCK = 1024 * 1024


class Readable(Protocol):
    """A request body streamed from a file: read in blocks, its length known up front."""

    def read(self, size: int = -1, /) -> bytes: ...

    def __len__(self) -> int: ...


Body = bytes | Readable | None


@dataclass(frozen=True)
class _Call:
    method: str
    url: str
    scopes: tuple[str, ...]
    body: Callable[[], Body] | Body
    headers: Mapping[str, str]
    same_origin: bool  # credentials go only to the registry itself, never to a redirect
    stream: bool
    allow_redirects: bool


class RegistryUnreachableError(RegistryError):
    """The connection to the registry failed or broke (as opposed to a refusal)."""


_ERRNO = re.compile(r"\[Errno -?\d+\] ([^)\"']+)")


def _reason(err: Exception) -> str:
    """The OS-level reason inside requests' and urllib3's wrapping, when there is one."""
    text = str(err)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return text
    found = _ERRNO.search(text)
    if found:
        return found.group(1).strip()
    if isinstance(err, requests.Timeout):
        return "timed out"
    return text


def error_detail(resp: requests.Response) -> str:
    """The registry's own error text (OCI error JSON), else the HTTP reason."""
    try:
        errors = resp.json().get("errors") or []
        parts = [f"{e.get('code', '')}: {e.get('message', '')}".strip(": ") for e in errors]
    except (ValueError, AttributeError):
        parts = []
    return "; ".join(p for p in parts if p) or (resp.reason or "")


class RegistryClient:
    """HTTP access to one registry; thread-safe, one connection pool."""

    def __init__(
        self,
        registry: str,
        *,
        insecure: bool = False,
        ca_file: Path | None = None,
        credentials: Credentials | bool | None = True,
        pool_size: int = 10,
        env: Mapping[str, str] | None = None,
        transport: requests.adapters.BaseAdapter | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.registry = registry
        self.insecure = insecure
        # Plain http only where nothing can listen in (loopback) or the user said so.
        self._schemes = ("https", "http") if insecure or is_loopback(registry) else ("https",)
        if insecure:
            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
        policy = _net.registry_policy(
            registry, insecure=insecure, ca_file=ca_file, pool_size=pool_size, env=env
        )
        self._client = _net.Client(policy, transport=transport)
        self.base_url = f"{self._schemes[0]}://{registry}"
        if credentials is True:
            creds = read_credentials(registry, env)
        else:
            creds = credentials if isinstance(credentials, Credentials) else None
        self.auth = Authenticator(registry, creds, self._client)

    def close(self) -> None:
        self._client.close()

    def _unreachable(self, err: Exception) -> RegistryUnreachableError:
        return RegistryUnreachableError(
            f"Cannot reach registry {self.registry}: {_reason(err)}",
            "Check that the registry is running and reachable from here"
            + ("" if self.insecure else "; for a registry without TLS, use --insecure")
            + ".",
        )

    def connect(self, scopes: Iterable[str] = ()) -> None:
        """``GET /v2/``: pick the scheme and answer the registry's challenge up front."""
        scopes = tuple(scopes)
        last: Exception | None = None
        for scheme in self._schemes:
            self.base_url = f"{scheme}://{self.registry}"
            try:
                resp = self._send("GET", "/v2/", scopes, None, {}, stream=False)
            except RegistryUnreachableError as err:
                last = err.__cause__ if isinstance(err.__cause__, Exception) else err
                if "CERTIFICATE_VERIFY_FAILED" in str(err):
                    raise RegistryError(
                        f"The TLS certificate of {self.registry} is not trusted: {err}",
                        "Give the registry's CA file (SSL_CERT_FILE, or "
                        f"/etc/containers/certs.d/{self.registry}/ca.crt), or use --insecure.",
                    ) from err
                continue
            resp.close()
            if resp.status_code == 401:
                raise refused(self.registry, self.auth.credentials is not None)
            if resp.status_code != 200:
                raise RegistryError(
                    f"{self.base_url}/v2/ answered {resp.status_code} {error_detail(resp)}",
                    f"Check that {self.registry} is an OCI registry.",
                )
            return
        raise self._unreachable(last or RuntimeError("no scheme"))

    def url(self, path_or_url: str) -> str:
        return urljoin(self.base_url + "/", path_or_url)

    def _send(
        self,
        method: str,
        path_or_url: str,
        scopes: tuple[str, ...],
        body: Callable[[], Body] | Body,
        headers: Mapping[str, str],
        *,
        stream: bool,
        allow_redirects: bool = True,
    ) -> requests.Response:
        url = self.url(path_or_url)
        call = _Call(
            method,
            url,
            scopes,
            body,
            headers,
            url.startswith(self.base_url + "/"),
            stream,
            allow_redirects,
        )
        resp = self._attempt(call)
        if resp.status_code == 401 and self.auth.answer(resp, scopes):
            resp.close()
            resp = self._attempt(call)
        return resp

    def _attempt(self, call: _Call) -> requests.Response:
        sent = dict(call.headers)
        auth = self.auth.header(call.scopes) if call.same_origin else None
        if auth:
            sent["Authorization"] = auth
        data = call.body() if callable(call.body) else call.body
        try:
            return self._client.request(
                call.method,
                call.url,
                headers=sent,
                data=data,
                stream=call.stream,
                allow_redirects=call.allow_redirects,
            )
        except (requests.ConnectionError, requests.Timeout) as err:
            raise self._unreachable(err) from err
        finally:
            close = getattr(data, "close", None)
            if callable(close):
                close()  # a file window left open by a broken request

    def request(
        self,
        method: str,
        path_or_url: str,
        scopes: Iterable[str],
        *,
        body: Callable[[], Body] | Body = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Send, answering one 401 challenge; ``body`` may be a factory so a retry after
        the challenge re-reads a file from its start.
        """
        resp = self._send(
            method,
            path_or_url,
            tuple(scopes),
            body,
            headers or {},
            stream=stream,
            allow_redirects=allow_redirects,
        )
        if resp.status_code == 401:
            resp.close()
            raise refused(self.registry, self.auth.credentials is not None)
        return resp

    def fail(self, resp: requests.Response, what: str) -> RegistryError:
        if resp.status_code == 403:
            return RegistryError(
                f"{self.registry} denied {what}: {error_detail(resp)}",
                "Check that your login may push to (or pull from) this repository.",
            )
        return RegistryError(
            f"{self.registry}: {what} failed with HTTP {resp.status_code}: {error_detail(resp)}",
            None,
        )


def bounded_body(
    resp: requests.Response, size: int, what: str, registry: str, *, exact: bool = True
) -> Iterator[bytes]:
    """The body of ``resp`` in blocks, never reading more than ``size`` + 1 bytes of it.

    ``size`` is what the descriptor says (``exact``: the body must be that long) or, where
    no descriptor names one, a ceiling. A longer body is refused at the first byte past it,
    so a hostile registry cannot stream gigabytes into the cache before the digest check.
    """
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > size:
        raise _too_long(size, what, registry, exact=exact)
    received = 0
    while True:
        block = resp.raw.read(min(_READ_BLOCK, size + 1 - received), decode_content=True)
        if not block:
            break
        received += len(block)
        if received > size:
            raise _too_long(size, what, registry, exact=exact)
        yield block
    if exact and received != size:
        raise RegistryError(
            f"{registry} sent {received} bytes for {what}, but the manifest says {size}",
            "The registry or something between it and you cut the transfer short; pull again.",
        )


def _too_long(size: int, what: str, registry: str, *, exact: bool) -> RegistryError:
    limit = f"the {size} bytes the manifest says" if exact else f"the {size}-byte limit"
    return RegistryError(
        f"{registry} sent more than {limit} for {what}",
        "The registry or something between it and you is sending the wrong data; nothing was kept.",
    )
