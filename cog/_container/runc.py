"""Run an unpacked image under runc: host network, a writable overlay, clean teardown.

No daemon: ``runc run`` is a child process of cog. Each container gets a bundle
directory of its own (config.json and an overlay of the cached, read-only root
filesystem); stopping the container removes the bundle, the overlay mount and runc's
state, whatever happened before.

A cog killed outright (SIGKILL, the OOM killer) cannot stop its container, so the kernel
does the first half: ``runc run`` gets SIGTERM when cog dies (PR_SET_PDEATHSIG) and
forwards it to the container's init, the server, which shuts down; the container has its
own PID namespace, so every process in it dies with that init, and runc then deletes its
state. The bundle and its overlay mount are recorded beside it (``reaper``) and cleaned
by the next cog that runs a container, as is a container whose init ignored SIGTERM.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import secrets
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cog._container.cdi import Device, resolve_gpus
from cog._container.cdi_edits import apply_devices
from cog._container.mounts import mount_overlay
from cog._container.reaper import Claim, remove_bundle, state_root
from cog.errors import RunError
from cog.rules._files import default_cache_root
from cog.rules.host_tools import require

_PR_SET_PDEATHSIG = 1
# Looked up once here: between fork and exec the child should do as little as it can.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


@dataclass(frozen=True)
class BindMount:
    source: Path
    destination: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    args: tuple[str, ...]
    env: dict[str, str]
    cwd: str = "/src"
    mounts: tuple[BindMount, ...] = ()
    terminal: bool = False
    gpus: str | None = None  # docker's --gpus syntax; under runc, CDI devices (cdi.py)
    extra_paths_ro: tuple[str, ...] = field(default=("/etc/resolv.conf",))


def runc_binary() -> str:
    return require("runc", RunError)


class Container:
    """One runc container; use as a context manager so teardown always happens."""

    def __init__(
        self,
        rootfs: Path,
        spec: ContainerSpec,
        *,
        state_dir: Path | None = None,
        records: Path | None = None,
        gpu_devices: Sequence[Device] | None = None,
    ):
        self.rootfs = rootfs
        self.spec = spec
        if gpu_devices is None and spec.gpus:
            gpu_devices = resolve_gpus(spec.gpus)  # before anything needs cleaning up
        self.gpu_devices = tuple(gpu_devices or ())
        self.id = "cog-" + secrets.token_hex(6)
        self._runc = runc_binary()
        self._state_dir = state_dir
        # The record (and with it the bundle) exists before anything needs cleaning.
        self._claim: Claim | None = Claim(
            records or state_root(default_cache_root()), self.id, state_dir
        )
        self._bundle = self._claim.bundle
        self.process: subprocess.Popen[bytes] | None = None

    def _runc_cmd(self, *args: str) -> list[str]:
        cmd = [self._runc]
        if self._state_dir is not None:
            cmd += ["--root", str(self._state_dir)]
        return [*cmd, *args]

    def start(
        self,
        *,
        stdin: IO[bytes] | int | None = subprocess.DEVNULL,
        stdout: IO[bytes] | int | None = None,
        stderr: IO[bytes] | int | None = None,
    ) -> subprocess.Popen[bytes]:
        root, read_only = self._prepare_root()
        config = _bundle_config(self.spec, root, read_only=read_only)
        apply_devices(config, self.gpu_devices)
        (self._bundle / "config.json").write_text(json.dumps(config, indent=1))
        self.process = subprocess.Popen(
            self._runc_cmd("run", "--bundle", str(self._bundle), self.id),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            # Our own Ctrl-C handling decides how the container stops (cancel, then
            # SIGTERM); only an interactive exec shares the terminal's signals.
            start_new_session=not self.spec.terminal,
            preexec_fn=_terminate_when_parent_dies(os.getpid()),  # noqa: PLW1509
        )
        return self.process

    def _prepare_root(self) -> tuple[Path, bool]:
        merged = self._bundle / "rootfs"
        upper, work = self._bundle / "upper", self._bundle / "work"
        for directory in (merged, upper, work):
            directory.mkdir()
        if mount_overlay(self.rootfs, upper, work, merged):
            return merged, False
        # Without overlay (not root, or no kernel support) the shared root stays read-only.
        return self.rootfs, True

    def signal(self, signum: int) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        subprocess.run(
            self._runc_cmd("kill", self.id, str(int(signum))), capture_output=True, check=False
        )

    def wait(self, timeout: float | None = None) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; then remove everything."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.signal(signal.SIGTERM)
                try:
                    self.process.wait(grace)
                except subprocess.TimeoutExpired:
                    self.signal(signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.process.wait(5)
                if self.process.poll() is None:
                    self.process.kill()
                    self.process.wait()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        subprocess.run(
            self._runc_cmd("delete", "--force", self.id), capture_output=True, check=False
        )
        if self._claim is not None:
            self._claim.release()  # the overlay detached, the bundle and the record removed
            self._claim = None
        else:
            remove_bundle(self._bundle)

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _terminate_when_parent_dies(parent: int) -> Callable[[], None]:
    """What ``runc run`` runs before exec: SIGTERM to it when cog dies, however cog dies.

    runc forwards SIGTERM to the container's init. The signal is tied to the thread that
    forked: containers are started from the thread that stops them.
    """

    def arm() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # cog died before the line above took effect
            os._exit(1)

    return arm


def _bundle_config(spec: ContainerSpec, root: Path, *, read_only: bool) -> dict[str, Any]:
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
        },
        {
            "destination": "/dev/shm",  # noqa: S108 (inside the container)
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=1g"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
    ]
    if read_only:
        mounts.append(
            {
                "destination": "/tmp",  # noqa: S108 (inside the container)
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777"],
            }
        )
    for host_path in spec.extra_paths_ro:
        if os.path.exists(host_path):
            mounts.append(_bind(Path(host_path), host_path, read_only=True))
    for mount in spec.mounts:
        mounts.append(_bind(mount.source, mount.destination, read_only=mount.read_only))
    # As many open files as cog itself may have: a container cannot raise it further.
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": spec.terminal,
            "user": {"uid": 0, "gid": 0},
            "args": list(spec.args),
            "env": [f"{name}={value}" for name, value in spec.env.items()],
            "cwd": spec.cwd,
            "capabilities": _capabilities(),
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}],
            "noNewPrivileges": True,
        },
        "root": {"path": str(root), "readonly": read_only},
        "hostname": "cog",
        "mounts": mounts,
        "linux": {
            # No network namespace: the container shares the host's, so a server inside
            # listens on the host's 127.0.0.1 directly.
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")],
            "devices": [],
            "resources": {"devices": [{"allow": False, "access": "rwm"}]},
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys"],
        },
    }


def _bind(source: Path, destination: str, *, read_only: bool) -> dict[str, Any]:
    options = ["rbind", "ro" if read_only else "rw"]
    return {"destination": destination, "type": "bind", "source": str(source), "options": options}


def _capabilities() -> dict[str, list[str]]:
    caps = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]  # fmt: skip
    return {"bounding": caps, "effective": caps, "permitted": caps}
