"""Login, stored credentials and TLS against a docker-registry with htpasswd and a
self-signed certificate."""

from __future__ import annotations

import base64
import json
import stat
import time
from pathlib import Path

import pytest

from cog.errors import RegistryError
from cog.progress import NullProgress
from cog.rules.registry import credentials_for, login, pull, push

from .conftest import SecureRegistry
from .images import make_image


@pytest.mark.integration
def test_login_then_push_and_pull_with_the_stored_login(
    secure_registry: SecureRegistry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    host = secure_registry.server.host
    written = login(
        host,
        secure_registry.username,
        secure_registry.password,
        ca_file=secure_registry.ca_file,
        env=docker_env,
    )
    assert written == Path(docker_env["DOCKER_CONFIG"]) / "config.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    stored = json.loads(written.read_text())["auths"][host]["auth"]
    assert base64.b64decode(stored).decode() == "alice:s3cret-pw"
    creds = credentials_for(host, env=docker_env)
    assert creds is not None
    assert (creds.username, creds.password) == ("alice", "s3cret-pw")

    image = make_image(tmp_path / "layout", [4096, 2 * 1024 * 1024])
    result = push(
        image.layout,
        image.manifest_digest,
        f"{host}/acme/private:v1",
        ca_file=secure_registry.ca_file,
        progress=NullProgress(),
        env=docker_env,
    )
    assert result.digest == image.manifest_digest
    pulled = pull(
        f"{host}/acme/private:v1",
        tmp_path / "pulled",
        cache_dir=tmp_path / "cache2",
        ca_file=secure_registry.ca_file,
        progress=NullProgress(),
        env=docker_env,
    )
    assert pulled.manifest_digest == image.manifest_digest


@pytest.mark.integration
def test_wrong_password_fails_clearly_within_two_seconds(
    secure_registry: SecureRegistry, docker_env: dict[str, str]
) -> None:
    host = secure_registry.server.host
    started = time.monotonic()
    with pytest.raises(RegistryError) as err:
        login(host, "alice", "wrong", ca_file=secure_registry.ca_file, env=docker_env)
    assert time.monotonic() - started < 2
    assert err.value.message == f"{host} refused the username or password"
    assert err.value.hint is not None
    assert f"cog login {host}" in err.value.hint
    assert not (Path(docker_env["DOCKER_CONFIG"]) / "config.json").exists()


@pytest.mark.integration
def test_push_without_a_login_says_to_log_in(
    secure_registry: SecureRegistry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    image = make_image(tmp_path / "layout", [100])
    host = secure_registry.server.host
    with pytest.raises(RegistryError, match=f"{host} needs a login"):
        push(
            image.layout,
            image.manifest_digest,
            f"{host}/acme/private:v1",
            ca_file=secure_registry.ca_file,
            progress=NullProgress(),
            env=docker_env,
        )


@pytest.mark.integration
def test_untrusted_certificate_is_refused_unless_insecure(
    secure_registry: SecureRegistry, docker_env: dict[str, str]
) -> None:
    host = secure_registry.server.host
    env = {**docker_env, "SSL_CERT_FILE": "/nonexistent"}
    with pytest.raises(RegistryError, match=f"TLS certificate of {host} is not trusted"):
        login(host, "alice", "s3cret-pw", env=env)
    login(host, "alice", "s3cret-pw", insecure=True, env=env)
    assert credentials_for(host, env=env) is not None


@pytest.mark.integration
def test_podman_auth_file_and_credential_helpers_are_read(
    secure_registry: SecureRegistry, tmp_path: Path, docker_env: dict[str, str]
) -> None:
    host = secure_registry.server.host
    auth_file = Path(docker_env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"
    auth_file.parent.mkdir(parents=True)
    encoded = base64.b64encode(b"alice:s3cret-pw").decode()
    auth_file.write_text(json.dumps({"auths": {host: {"auth": encoded}}}))
    image = make_image(tmp_path / "layout", [100])
    push(
        image.layout,
        image.manifest_digest,
        f"{host}/acme/podman:v1",
        ca_file=secure_registry.ca_file,
        progress=NullProgress(),
        env=docker_env,
    )

    # A docker credential helper, as docker-credential-<name> on PATH.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-testhelper"
    helper.write_text(
        "#!/bin/sh\n"
        "read host\n"
        f'[ "$host" = "{host}" ] || {{ echo "credentials not found" >&2; exit 1; }}\n'
        'echo \'{"Username":"alice","Secret":"s3cret-pw"}\'\n'
    )
    helper.chmod(0o755)
    auth_file.unlink()
    config = Path(docker_env["DOCKER_CONFIG"]) / "config.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"credHelpers": {host: "testhelper"}}))
    env = {**docker_env, "PATH": f"{bin_dir}:/usr/bin:/bin"}
    creds = credentials_for(host, env=env)
    assert creds is not None
    assert (creds.username, creds.password) == ("alice", "s3cret-pw")
    push(
        image.layout,
        image.manifest_digest,
        f"{host}/acme/helper:v1",
        ca_file=secure_registry.ca_file,
        progress=NullProgress(),
        env=env,
    )
    # A host the helper does not know: anonymous, not an error.
    assert credentials_for("127.0.0.1:1", env=env) is None
