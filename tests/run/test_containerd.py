"""What a Kubernetes node runs: containerd pulls the image cog pushed, runs it, and it answers.

containerd (Debian package, here 1.6) is started by the test with its root, state and
socket in a temp dir and no CRI plugin; the image is examples/hello, built and pushed with
the `cog` command to a real docker-registry on 127.0.0.1; `ctr` pulls it over plain HTTP
and runs it with host networking.

CDI: containerd reads CDI specs itself only from 1.7 on (the CRI plugin's ``enable_cdi``
and ``cdi_spec_dirs``, and ``ctr run --device vendor.com/class=name``); Debian 12's 1.6.20
has neither, and this test says so when it finds one that old. What a 1.6 node does
instead, as the NVIDIA toolkit's nvidia-container-runtime does, is run a runc wrapper
that applies the spec to the bundle's config.json: cog ships one (``cog._container.cdi_runc``)
and the second test runs the image through it with the same stand-in spec as test_cdi.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cog._container.image import load_image, resolve_tag
from tests.run.cdi_standin import LIBRARY, PROBE, write_standin
from tests.support.registry import Registry, free_port

pytestmark = [pytest.mark.integration, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
COG = str(Path(sys.executable).parent / "cog")
DEADLINE_S = 60.0
NAMESPACE = "cog-tests"


def _poll(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still not so after {DEADLINE_S} s")
        time.sleep(0.05)


@dataclass(frozen=True)
class Containerd:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> str:
        return str(self.root / "containerd.sock")

    def ctr(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["ctr", "-a", self.socket, "-n", NAMESPACE, *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check:
            assert done.returncode == 0, f"ctr {' '.join(args)}: {done.stdout}{done.stderr}"
        return done


CONFIG = """\
version = 2
root = "{root}/root"
state = "{root}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{root}/containerd.sock"

[ttrpc]
  address = "{root}/containerd.sock.ttrpc"
"""


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Containerd]:
    for tool in ("containerd", "ctr", "runc"):
        if shutil.which(tool) is None:
            pytest.fail(
                f"{tool} is not installed (Debian package {tool.replace('ctr', 'containerd')})"
            )
    root = tmp_path_factory.mktemp("containerd")
    config = root / "config.toml"
    config.write_text(CONFIG.format(root=root))
    log = (root / "containerd.log").open("wb")
    process = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=log)
    log.close()
    daemon = Containerd(root, process)
    try:
        _poll(
            lambda: process.poll() is None and daemon.ctr("version", check=False).returncode == 0,
            "containerd answers on its socket",
        )
        yield daemon
    finally:
        for task in daemon.ctr("task", "ls", "-q", check=False).stdout.split():
            daemon.ctr("task", "kill", "-s", "SIGKILL", task, check=False)
        process.send_signal(signal.SIGTERM)
        process.wait(30)


@dataclass(frozen=True)
class Pushed:
    reference: str
    args: tuple[str, ...]  # the image's entrypoint and command


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed (Debian package docker-registry)")
    work = tmp_path_factory.mktemp("containerd-image")
    registry = Registry(root=work / "registry", port=free_port())
    registry.root.mkdir()
    registry.start()
    project = work / "hello"
    shutil.copytree(
        ROOT / "examples" / "hello",
        project,
        ignore=shutil.ignore_patterns(".cog", "cog.lock", "__pycache__"),
    )
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = os.environ | {"COG_CACHE_DIR": str(work / "cache"), "NO_COLOR": "1", "PATH": path}
    subprocess.run([sys.executable, "make_weights.py"], cwd=project, check=True)
    reference = f"{registry.host}/k8s/hello:v1"
    for step in (("lock",), ("build", "-t", "hello"), ("push", reference)):
        done = subprocess.run(
            [COG, *step],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"cog {step[0]}: {done.stdout}{done.stderr}"
    layout = project / ".cog" / "image"
    config = load_image(layout, resolve_tag(layout, "hello")).config
    try:
        yield Pushed(reference, (*config.entrypoint, *config.cmd))
    finally:
        registry.kill()


@contextlib.contextmanager
def served(
    containerd: Containerd, pushed: Pushed, name: str, *run_args: str
) -> Iterator[tuple[int, Path]]:
    """The image running under containerd with host networking; yields its port and log."""
    port = free_port()
    log = containerd.root / f"{name}.log"
    command = ["ctr", "-a", containerd.socket, "-n", NAMESPACE, "run", "--rm", "--net-host"]
    command += ["--env", f"PORT={port}", *run_args, pushed.reference, name]
    command += [*pushed.args, "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _poll(lambda: _ready(port, process, log), f"the server on port {port} is READY")
        yield port, log
    finally:
        containerd.ctr("task", "kill", "-s", "SIGTERM", name, check=False)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            containerd.ctr("task", "kill", "-s", "SIGKILL", name, check=False)
            process.wait(10)
        containerd.ctr("container", "rm", name, check=False)


def _ready(port: int, process: subprocess.Popen[bytes], log: Path) -> bool:
    assert process.poll() is None, f"ctr run exited: {log.read_text(errors='replace')}"
    try:
        body = requests.get(f"http://127.0.0.1:{port}/health-check", timeout=2).json()
    except requests.ConnectionError:
        return False
    return bool(body["status"] == "READY")


def _predict(port: int, name: str) -> dict[str, Any]:
    response = requests.post(
        f"http://127.0.0.1:{port}/predictions", json={"input": {"name": name}}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_containerd_pulls_what_cog_pushed_and_serves_a_prediction(
    containerd: Containerd, pushed: Pushed
) -> None:
    containerd.ctr("image", "pull", "--plain-http", pushed.reference)
    listed = containerd.ctr("image", "ls", "-q").stdout.split()
    assert pushed.reference in listed

    with served(containerd, pushed, "cog-hello") as (port, _):
        body = _predict(port, "containerd")
    assert body["status"] == "succeeded"
    assert body["output"] == "hello, containerd!"


def _init_env(containerd: Containerd, name: str) -> list[str]:
    read = "print(open('/proc/1/environ').read().replace(chr(0), chr(10)))"
    done = containerd.ctr("task", "exec", "--exec-id", "env", name, "python3", "-c", read)
    return done.stdout.split()


WRAPPER = """\
#!/bin/sh
# What a node's containerd config names as the runc binary: runc, with CDI applied.
CDI_SPEC_DIRS={spec_dir} exec {python} -m cog._container.cdi_runc "$@"
"""


def test_containerd_with_cogs_cdi_runc_gives_the_container_the_spec_s_devices(
    containerd: Containerd, pushed: Pushed, tmp_path: Path
) -> None:
    # containerd 1.6 (Debian 12) reads no CDI spec itself: see the module's docstring.
    standin = write_standin(tmp_path / "standin", "json")
    wrapper = tmp_path / "cdi-runc"
    wrapper.write_text(WRAPPER.format(spec_dir=standin.spec_dir, python=sys.executable))
    wrapper.chmod(0o755)
    containerd.ctr("image", "pull", "--plain-http", pushed.reference)

    env = ("--env", "NVIDIA_VISIBLE_DEVICES=1", "--runc-binary", str(wrapper))
    with served(containerd, pushed, "cog-gpu", *env) as (port, _):
        body = _predict(port, "gpu")
        probe = containerd.ctr(
            "task", "exec", "--exec-id", "probe", "cog-gpu", "python3", "-c", PROBE
        )
        init_env = _init_env(containerd, "cog-gpu")
    seen = json.loads(probe.stdout.strip().splitlines()[-1])

    assert body["output"] == "hello, gpu!"
    assert sorted(seen["devices"]) == ["nvidia1", "nvidiactl"]
    assert seen["devices"]["nvidia1"][2] == "00"  # the /dev/zero stand-in
    # An exec'd process gets the container's stored spec: the edited env is the init's.
    assert "COG_STANDIN_GPU=1" in init_env
    assert seen["library"] == "stand-in libcuda\n", LIBRARY
    assert seen["hook"] == "update-ldcache --folder /usr/lib/cog-standin-driver"
    assert len(standin.hook_runs()) == 1


def test_cdi_runc_takes_devices_from_the_cdi_annotation(
    containerd: Containerd, pushed: Pushed, tmp_path: Path
) -> None:
    standin = write_standin(tmp_path / "standin", "yaml")
    wrapper = tmp_path / "cdi-runc"
    wrapper.write_text(WRAPPER.format(spec_dir=standin.spec_dir, python=sys.executable))
    wrapper.chmod(0o755)
    containerd.ctr("image", "pull", "--plain-http", pushed.reference)

    annotation = ("--annotation", "cdi.k8s.io/cog=nvidia.com/gpu=0", "--runc-binary", str(wrapper))
    with served(containerd, pushed, "cog-annotated", *annotation):
        probe = containerd.ctr(
            "task", "exec", "--exec-id", "probe", "cog-annotated", "python3", "-c", PROBE
        )
        init_env = _init_env(containerd, "cog-annotated")
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert sorted(seen["devices"]) == ["nvidia0", "nvidiactl"]
    assert "COG_STANDIN_GPU=0" in init_env
