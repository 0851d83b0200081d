"""Answering a registry's ``WWW-Authenticate`` challenge: anonymous, Basic, or a bearer
token fetched from the challenge's realm for a service and scopes (the distribution token
flow, including identity tokens exchanged by OAuth2 refresh_token grant).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import requests

from cog import _net
from cog.errors import RegistryError

from ._dockerconfig import Credentials

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercased: "basic" or "bearer"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def basic_header(creds: Credentials) -> str:
    raw = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class AuthenticationError(RegistryError):
    """The registry refused the credentials we hold (or asked for some we lack)."""


class Authenticator:
    """Authorization headers for one registry, learnt from its challenges; thread-safe."""

    def __init__(
        self,
        registry: str,
        credentials: Credentials | None,
        client: _net.Client,
    ) -> None:
        self.registry = registry
        self.credentials = credentials
        self._client = client  # the registry's own: its timeouts, CA bundle and proxies
        self._lock = threading.Lock()
        self._basic = False
        self._bearer: Challenge | None = None
        self._tokens: dict[frozenset[str], str] = {}

    def header(self, scopes: Iterable[str]) -> str | None:
        """The Authorization header to send for ``scopes``, or None (anonymous)."""
        with self._lock:
            if self._bearer is not None:
                key = frozenset(scopes)
                token = self._tokens.get(key)
                if token is None:
                    token = self._fetch_token(self._bearer, key)
                    self._tokens[key] = token
                return f"Bearer {token}"
            if self._basic and self.credentials is not None:
                return basic_header(self.credentials)
            return None

    def answer(self, response: requests.Response, scopes: Iterable[str]) -> bool:
        """Learn from a 401; True when a retry with the new header may succeed."""
        challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return False
        with self._lock:
            if challenge.scheme == "basic":
                if self._basic or self.credentials is None:
                    return False
                self._basic = True
                return True
            if challenge.scheme != "bearer" or "realm" not in challenge.params:
                return False
            key = frozenset(scopes) | {s for s in challenge.params.get("scope", "").split(" ") if s}
            had = self._tokens.get(frozenset(scopes))
            self._bearer = challenge
            token = self._fetch_token(challenge, key)
            self._tokens[frozenset(scopes)] = token
            return token != had

    def _fetch_token(self, challenge: Challenge, scopes: frozenset[str]) -> str:
        realm = challenge.params["realm"]
        service = challenge.params.get("service")
        creds = self.credentials
        try:
            if creds is not None and creds.identity_token:
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds.identity_token,
                    "client_id": "cog",
                    "scope": " ".join(sorted(scopes)),
                }
                if service:
                    form["service"] = service
                resp = self._client.post(realm, data=form)
            else:
                params: list[tuple[str, str]] = [("scope", s) for s in sorted(scopes)]
                if service:
                    params.insert(0, ("service", service))
                headers = {"Authorization": basic_header(creds)} if creds is not None else {}
                resp = self._client.get(realm, params=params, headers=headers)
        except requests.RequestException as err:
            raise RegistryError(
                f"Cannot get a token for {self.registry} from {realm}: {err}",
                "Check that the registry's token service is reachable.",
            ) from err
        if resp.status_code in (401, 403):
            raise refused(self.registry, creds is not None)
        if resp.status_code != 200:
            raise RegistryError(
                f"The token service of {self.registry} answered {resp.status_code}",
                "Try again later; if it persists, check the registry's status.",
            )
        try:
            body = resp.json()
            token = body.get("token") or body.get("access_token")
        except (ValueError, AttributeError) as err:
            raise RegistryError(f"The token service of {self.registry} sent no JSON", None) from err
        if not isinstance(token, str) or not token:
            raise RegistryError(f"The token service of {self.registry} sent no token", None)
        return token


def refused(registry: str, had_credentials: bool) -> AuthenticationError:
    if had_credentials:
        return AuthenticationError(
            f"{registry} refused the username or password",
            f"Run `cog login {registry}` with the right credentials.",
        )
    return AuthenticationError(
        f"{registry} needs a login",
        f"Run `cog login {registry}` first (or docker/podman login).",
    )
