"""A real ``docker-registry`` (Debian's distribution 2.x) on 127.0.0.1, storage in tmp.

Shared by the registry tests and the end-to-end tests.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml

START_DEADLINE_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Registry:
    """One docker-registry process; ``restart()`` brings it back on the same storage and port."""

    root: Path
    port: int
    tls: tuple[Path, Path] | None = None  # certificate, key
    htpasswd: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def _config(self) -> Path:
        http: dict[str, object] = {
            "addr": self.host,
            # A fixed secret: upload state survives a restart, so uploads can resume.
            "secret": "tests-registry-secret",
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        }
        if self.tls:
            http["tls"] = {"certificate": str(self.tls[0]), "key": str(self.tls[1])}
        config: dict[str, object] = {
            "version": 0.1,
            "log": {"level": "error", "accesslog": {"disabled": True}},
            "storage": {
                "filesystem": {"rootdirectory": str(self.root / "storage")},
                "delete": {"enabled": True},
                "maintenance": {"uploadpurging": {"enabled": False}},
            },
            "http": http,
        }
        if self.htpasswd:
            config["auth"] = {"htpasswd": {"realm": "tests", "path": str(self.htpasswd)}}
        path = self.root / "config.yml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    def start(self) -> None:
        log = (self.root / "registry.log").open("ab")
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(self._config())], stdout=log, stderr=log
        )
        log.close()
        try:
            self._wait_ready()
        except BaseException:
            self.kill()
            raise

    def _wait_ready(self) -> None:
        assert self.process is not None
        verify: str | bool = str(self.tls[0]) if self.tls else True
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(self.root / 'registry.log').read_text()}"
                )
            try:
                requests.get(f"{self.url}/v2/", timeout=1, verify=verify)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not answer on {self.host}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed (Debian package docker-registry)")
    server = Registry(root=tmp_path / "registry", port=free_port())
    server.root.mkdir()
    server.start()
    yield server
    server.kill()
