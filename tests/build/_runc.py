"""Run an image from an OCI layout under runc, the way the notes describe: umoci unpack, no
network namespace (the host's 127.0.0.1), no terminal, a read-only root with a /tmp tmpfs."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unpack(layout: Path, tag: str, bundle: Path) -> None:
    subprocess.run(
        ["umoci", "unpack", "--image", f"{layout}:{tag}", str(bundle)],
        check=True,
        capture_output=True,
    )


def _configure(bundle: Path, args: list[str]) -> None:
    path = bundle / "config.json"
    config = json.loads(path.read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    config["linux"]["namespaces"] = [
        n for n in config["linux"]["namespaces"] if n["type"] != "network"
    ]
    config["root"]["readonly"] = True
    config["mounts"].append(
        {
            "destination": "/tmp",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "mode=1777"],
        }
    )
    path.write_text(json.dumps(config))


def run_once(bundle: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    _configure(bundle, args)
    name = f"cog-test-{os.getpid()}-{secrets.token_hex(4)}"
    return subprocess.run(
        ["runc", "run", "-b", str(bundle), name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextlib.contextmanager
def serving(bundle: Path, port: int) -> Iterator[str]:
    args = ["python3", "-m", "cog.runtime", "--host", "127.0.0.1", "--port", str(port)]
    _configure(bundle, args)
    name = f"cog-test-{os.getpid()}-{secrets.token_hex(4)}"
    log = (bundle / "runc.log").open("w")
    subprocess.run(
        ["runc", "run", "-d", "-b", str(bundle), name],
        stdout=log,
        stderr=subprocess.STDOUT,
        check=True,
        timeout=60,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(["runc", "kill", name, "KILL"], capture_output=True, check=False)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["runc", "state", name], capture_output=True, text=True, check=False
            )
            if state.returncode != 0 or '"stopped"' in state.stdout:
                break
            time.sleep(0.05)
        subprocess.run(["runc", "delete", "-f", name], capture_output=True, check=False)
        log.close()


def get_json(url: str, body: object | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"} if data else {}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def wait_ready(base: str, deadline_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            health = get_json(f"{base}/health-check")
        except (urllib.error.URLError, ConnectionError, TimeoutError) as e:
            last = e
        else:
            if health["status"] in ("READY", "SETUP_FAILED", "DEFUNCT"):
                return dict(health)
            last = health
        time.sleep(0.05)
    raise AssertionError(f"the server did not become ready: {last}")
