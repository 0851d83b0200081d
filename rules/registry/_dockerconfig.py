"""Where docker, podman and skopeo keep registry credentials, read and written as they do.

Docker: $DOCKER_CONFIG/config.json or ~/.docker/config.json, with ``auths`` (base64
``user:password`` or an ``identitytoken``), ``credHelpers`` (per host) and ``credsStore``
(default helper), helpers being ``docker-credential-<name> get|store``. Podman/skopeo:
$REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, ~/.config/containers/auth.json.
"""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cog.errors import RegistryError
from cog.rules._files import atomic_write

_HELPER_TIMEOUT_S = 20
_IDENTITY_TOKEN_USER = "<token>"  # noqa: S105 (docker's marker, not a secret)


@dataclass(frozen=True)
class Credentials:
    """A username and password, or an identity (refresh) token for the bearer flow."""

    username: str
    password: str
    identity_token: str | None = None

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password='**********')"


def docker_config_path(env: Mapping[str, str]) -> Path:
    root = env.get("DOCKER_CONFIG")
    if root:
        return Path(root) / "config.json"
    return Path(env.get("HOME") or Path.home()) / ".docker" / "config.json"


def containers_auth_paths(env: Mapping[str, str]) -> list[Path]:
    paths: list[Path] = []
    if env.get("REGISTRY_AUTH_FILE"):
        paths.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("XDG_RUNTIME_DIR"):
        paths.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    paths.append(Path(env.get("HOME") or Path.home()) / ".config" / "containers" / "auth.json")
    return paths


def _host_of(key: str) -> str:
    # Docker accepts keys written as URLs ("https://host/v1/") as well as bare hosts.
    key = key.removeprefix("https://").removeprefix("http://")
    return key.split("/", 1)[0]


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as err:
        raise RegistryError(
            f"Cannot read registry credentials from {path}: {err}",
            "Fix or remove the file, then run `cog login` again.",
        ) from err
    if not isinstance(data, dict):
        raise RegistryError(f"{path} is not a JSON object", "Fix or remove the file.")
    return data


def _section(config: Mapping[str, object], name: str) -> dict[str, object]:
    value = config.get(name)
    return value if isinstance(value, dict) else {}


def _from_auth_entry(entry: object, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    token = entry.get("identitytoken")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, sep, password = base64.b64decode(encoded).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise RegistryError(
                f"A registry password in {path} is not valid base64", "Run `cog login` again."
            ) from err
        if sep:
            ident = token if isinstance(token, str) and token else None
            return Credentials(user, password, ident)
    if isinstance(token, str) and token:
        return Credentials(_IDENTITY_TOKEN_USER, "", token)
    name, secret = entry.get("username"), entry.get("password")
    if isinstance(name, str) and isinstance(secret, str) and name:
        return Credentials(name, secret)
    return None


def _find_auth(auths: Mapping[str, object], registry: str, path: Path) -> Credentials | None:
    if registry in auths:
        return _from_auth_entry(auths[registry], path)
    for key, entry in auths.items():
        if _host_of(key) == registry:
            return _from_auth_entry(entry, path)
    return None


def helper_get(helper: str, registry: str, env: Mapping[str, str]) -> Credentials | None:
    binary = f"docker-credential-{helper}"
    try:
        done = subprocess.run(
            [binary, "get"],
            input=registry,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as err:
        raise RegistryError(
            f"Credential helper {binary} (configured for {registry}) is not installed",
            "Install it, or remove it from credsStore/credHelpers in your docker config.",
        ) from err
    except subprocess.TimeoutExpired as err:
        raise RegistryError(f"Credential helper {binary} did not answer", None) from err
    if done.returncode != 0:
        if "not found" in (done.stdout + done.stderr).lower():
            return None
        raise RegistryError(
            f"Credential helper {binary} failed for {registry}: {done.stderr.strip()}", None
        )
    try:
        payload = json.loads(done.stdout)
        user, secret = str(payload["Username"]), str(payload["Secret"])
    except (ValueError, KeyError, TypeError) as err:
        raise RegistryError(
            f"Credential helper {binary} printed an unexpected answer", None
        ) from err
    if user == _IDENTITY_TOKEN_USER:
        return Credentials(user, "", secret)
    return Credentials(user, secret)


def read_credentials(registry: str, env: Mapping[str, str]) -> Credentials | None:
    path = docker_config_path(env)
    config = _read_json(path)
    helper = _section(config, "credHelpers").get(registry)
    if isinstance(helper, str) and helper:
        return helper_get(helper, registry, env)
    found = _find_auth(_section(config, "auths"), registry, path)
    if found is not None:
        return found
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        found = helper_get(store, registry, env)
        if found is not None:
            return found
    for auth_file in containers_auth_paths(env):
        found = _find_auth(_section(_read_json(auth_file), "auths"), registry, auth_file)
        if found is not None:
            return found
    return None


def _helper_store(helper: str, registry: str, creds: Credentials, env: Mapping[str, str]) -> None:
    binary = f"docker-credential-{helper}"
    payload = json.dumps(
        {"ServerURL": registry, "Username": creds.username, "Secret": creds.password}
    )
    try:
        done = subprocess.run(
            [binary, "store"],
            input=payload,
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=_HELPER_TIMEOUT_S,
            check=False,
        )
    except (FileNotFoundError, subprocess.TimeoutExpired) as err:
        raise RegistryError(f"Credential helper {binary} could not store the login", None) from err
    if done.returncode != 0:
        raise RegistryError(
            f"Credential helper {binary} could not store the login for {registry}: "
            f"{done.stderr.strip()}",
            None,
        )


def store_credentials(registry: str, creds: Credentials, env: Mapping[str, str]) -> Path:
    """Store as ``docker login`` would: the configured helper, else base64 in ``auths``."""
    path = docker_config_path(env)
    config = _read_json(path)
    helper = _section(config, "credHelpers").get(registry) or config.get("credsStore")
    if isinstance(helper, str) and helper:
        _helper_store(helper, registry, creds, env)
        return path
    auths = _section(config, "auths")
    encoded = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode("ascii")
    auths[registry] = {"auth": encoded}
    config["auths"] = auths
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, (json.dumps(config, indent="\t") + "\n").encode(), mode=0o600)
    return path
