from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from cog.errors import RegistryError
from cog.rules.registry._challenge import parse_challenge
from cog.rules.registry._dockerconfig import (
    Credentials,
    read_credentials,
    store_credentials,
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "HOME": str(tmp_path / "home"),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _write(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


@pytest.mark.unit
def test_reads_docker_auths_by_host_or_url_key(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _write(
        tmp_path / "docker" / "config.json",
        {
            "auths": {
                "reg.example:5000": {"auth": _b64("u1:p:w")},
                "https://other.example/v1/": {"auth": _b64("u2:pw2")},
                "tok.example": {"identitytoken": "refresh-me"},
            }
        },
    )
    assert read_credentials("reg.example:5000", env) == Credentials("u1", "p:w")
    assert read_credentials("other.example", env) == Credentials("u2", "pw2")
    token = read_credentials("tok.example", env)
    assert token is not None
    assert token.identity_token == "refresh-me"
    assert read_credentials("none.example", env) is None


@pytest.mark.unit
def test_falls_back_to_podman_auth_file(tmp_path: Path) -> None:
    env = _env(tmp_path)
    _write(
        tmp_path / "run" / "containers" / "auth.json",
        {"auths": {"p.example": {"auth": _b64("a:b")}}},
    )
    assert read_credentials("p.example", env) == Credentials("a", "b")
    env["REGISTRY_AUTH_FILE"] = str(tmp_path / "custom.json")
    _write(tmp_path / "custom.json", {"auths": {"p.example": {"auth": _b64("c:d")}}})
    assert read_credentials("p.example", env) == Credentials("c", "d")


@pytest.mark.unit
def test_corrupt_config_names_the_file(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = tmp_path / "docker" / "config.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(RegistryError, match=str(path)):
        read_credentials("reg.example", env)


@pytest.mark.unit
def test_store_is_atomic_private_and_keeps_other_settings(tmp_path: Path) -> None:
    env = _env(tmp_path)
    path = tmp_path / "docker" / "config.json"
    _write(path, {"auths": {"keep.example": {"auth": _b64("k:v")}}, "psFormat": "table"})
    assert store_credentials("reg.example", Credentials("me", "pw"), env) == path
    data = json.loads(path.read_text())
    assert data["psFormat"] == "table"
    assert data["auths"]["keep.example"]["auth"] == _b64("k:v")
    assert data["auths"]["reg.example"]["auth"] == _b64("me:pw")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp left behind


@pytest.mark.unit
def test_credentials_never_show_the_password() -> None:
    assert "hunter2" not in repr(Credentials("me", "hunter2"))


@pytest.mark.unit
def test_parse_challenge() -> None:
    bearer = parse_challenge(
        'Bearer realm="https://auth.example/token",service="reg.example",'
        'scope="repository:a/b:pull,push"'
    )
    assert bearer is not None
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example/token",
        "service": "reg.example",
        "scope": "repository:a/b:pull,push",
    }
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None
    assert (basic.scheme, basic.params) == ("basic", {"realm": "Registry Realm"})
    assert parse_challenge("") is None
