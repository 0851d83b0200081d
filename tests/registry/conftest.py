"""Registry fixtures: the plain registry (tests/support/registry.py), and variants with
htpasswd (bcrypt) auth and a self-signed TLS certificate.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.registry import Registry, free_port, registry

__all__ = ["Registry", "free_port", "registry"]


@dataclass(frozen=True)
class TlsFiles:
    certificate: Path
    key: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return TlsFiles(cert, key)


def bcrypt_line(user: str, password: str) -> str:
    """An htpasswd line with a bcrypt hash: apache2-utils' htpasswd when installed, else
    the C library's crypt(3) (libxcrypt does bcrypt) through Python's crypt module.
    """
    if shutil.which("htpasswd"):
        out = subprocess.run(
            ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
        )
        return out.stdout.strip()
    probe = (
        "import crypt, sys; "
        "print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"
    )
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", probe, password],
        check=True,
        capture_output=True,
        text=True,
    )
    hashed = out.stdout.strip()
    assert hashed.startswith("$2"), "this Python's crypt cannot make bcrypt hashes"
    return f"{user}:{hashed}"


@dataclass(frozen=True)
class SecureRegistry:
    server: Registry
    username: str
    password: str
    ca_file: Path


@pytest.fixture
def secure_registry(tmp_path: Path, tls_files: TlsFiles) -> Iterator[SecureRegistry]:
    root = tmp_path / "secure-registry"
    root.mkdir()
    htpasswd = root / "htpasswd"
    htpasswd.write_text(bcrypt_line("alice", "s3cret-pw") + "\n", encoding="utf-8")
    server = Registry(
        root=root, port=free_port(), tls=(tls_files.certificate, tls_files.key), htpasswd=htpasswd
    )
    server.start()
    yield SecureRegistry(server, "alice", "s3cret-pw", tls_files.certificate)
    server.kill()


@pytest.fixture
def docker_env(tmp_path: Path) -> dict[str, str]:
    """An environment with its own empty docker config, cache and no registry defaults."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "DOCKER_CONFIG": str(home / ".docker"),
        "COG_CACHE_DIR": str(tmp_path / "cache"),
        "XDG_RUNTIME_DIR": str(tmp_path / "run"),
    }
