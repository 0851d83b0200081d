"""Registry logins, read and written where docker, podman and skopeo keep them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from cog.errors import RegistryError

from ._api import RegistryClient
from ._dockerconfig import Credentials, read_credentials, store_credentials

__all__ = ["Credentials", "credentials_for", "login"]


def credentials_for(registry: str, *, env: Mapping[str, str] | None = None) -> Credentials | None:
    """The stored login for ``registry`` (docker config, its credential helpers, then
    podman/skopeo's auth.json), or None for anonymous access.
    """
    return read_credentials(registry, os.environ if env is None else env)


def login(
    registry: str,
    username: str,
    password: str,
    *,
    insecure: bool = False,
    ca_file: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Check ``username``/``password`` against ``registry``'s /v2/, then store them as
    ``docker login`` does. Returns the docker config file written (or consulted, when a
    credential helper stores the secret). Raises RegistryError when the registry refuses.
    """
    env = os.environ if env is None else env
    if not username or not password:
        raise RegistryError(
            f"A username and a password are needed to log in to {registry}",
            "Pass both (the password on standard input with --password-stdin).",
        )
    creds = Credentials(username, password)
    client = RegistryClient(
        registry, insecure=insecure, ca_file=ca_file, credentials=creds, env=env
    )
    try:
        client.connect()
    finally:
        client.close()
    return store_credentials(registry, creds, env)
