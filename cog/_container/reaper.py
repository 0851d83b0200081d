"""A record of every runc container cog runs, so that no killed run leaves one behind.

Each container has, in ``<cache>/containers/``, a record ``<id>.json`` (the owning cog's
pid and start time, runc's ``--root``) and its bundle ``<id>/`` (config.json, the
overlay's upper and work dirs, the overlay mounted on ``rootfs``). The owner holds an
exclusive ``flock`` on its record for as long as it lives; the kernel drops it when the
process dies, however it dies. A cog that starts a container first reaps the records
nobody holds: ``runc kill``/``runc delete --force``, the mounts beneath the bundle
detached, the bundle removed, the record last.

What a record says is only trusted for the owner's pid and runc's root: every path
cleaned is derived from the record's own name, checked against ``cog-<12 hex>``, and
lies directly in the state directory; no symlink is followed out of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from cog._container.mounts import detach_mount, mounts_beneath

CONTAINER_ID = re.compile(r"cog-[0-9a-f]{12}")
_RECORD_SUFFIX = ".json"
_PARTIAL_PREFIX = ".partial-"


def state_root(cache: Path) -> Path:
    return cache / "containers"


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks after boot), or None when there is no PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass(frozen=True)
class Record:
    container_id: str
    owner_pid: int
    owner_start: int
    runc_root: str | None

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode()


class Claim:
    """The live owner's record of one container; ``release`` once the container is gone."""

    def __init__(self, root: Path, container_id: str, runc_root: Path | None) -> None:
        if not CONTAINER_ID.fullmatch(container_id):
            raise ValueError(f"not a cog container id: {container_id!r}")
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        pid = os.getpid()
        record = Record(
            container_id=container_id,
            owner_pid=pid,
            owner_start=process_start_time(pid) or 0,
            runc_root=str(runc_root) if runc_root is not None else None,
        )
        partial = root / f"{_PARTIAL_PREFIX}{container_id}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd = os.open(partial, flags, 0o600)
        # Locked before it has its name: a reaper never sees a record that nobody holds
        # while its owner lives.
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        os.write(self._fd, record.to_json())
        self.record_path = root / f"{container_id}{_RECORD_SUFFIX}"
        os.rename(partial, self.record_path)
        self.bundle = root / container_id
        self.bundle.mkdir(mode=0o700)

    def release(self) -> None:
        """Remove the bundle (its mounts first), then the record."""
        if self._fd < 0:
            return
        if remove_bundle(self.bundle):
            self.record_path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = -1


def remove_bundle(bundle: Path) -> bool:
    """Detach every mount beneath ``bundle`` and remove it; False if a mount stays."""
    if not os.path.lexists(bundle):
        return True
    if bundle.is_symlink() or not bundle.is_dir():
        bundle.unlink()  # only the link itself: never what it points at
        return True
    for point in mounts_beneath(bundle):
        detach_mount(point)
    if mounts_beneath(bundle):
        print(f"cog: {bundle} is still mounted; leaving it for the next run", file=sys.stderr)
        return False
    shutil.rmtree(bundle)  # fd-based: it never follows a symlink
    return True


def reap_stale(root: Path, runc: str | None) -> list[str]:
    """Clean every container whose owner is gone; returns their ids."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    names = {entry.name for entry in entries}
    reaped = []
    for entry in entries:
        name = entry.name
        if name.startswith(_PARTIAL_PREFIX):
            _drop_unheld(Path(entry.path))
        elif name.endswith(_RECORD_SUFFIX) and CONTAINER_ID.fullmatch(name[: -len(_RECORD_SUFFIX)]):
            if _reap_record(root, name[: -len(_RECORD_SUFFIX)], runc):
                reaped.append(name[: -len(_RECORD_SUFFIX)])
        elif CONTAINER_ID.fullmatch(name) and _orphan_bundle(root, name, names):
            reaped.append(name)
    return reaped


def _orphan_bundle(root: Path, name: str, names: set[str]) -> bool:
    # A bundle is made after its record and removed before it: alone, it is a leftover
    # of a cleanup that could not finish.
    if name + _RECORD_SUFFIX in names or os.path.lexists(root / (name + _RECORD_SUFFIX)):
        return False
    return remove_bundle(root / name)


def _open_unheld(path: Path) -> int | None:
    """An fd holding ``path``'s lock, or None while its owner lives (or it is no file)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except (FileNotFoundError, OSError):
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _drop_unheld(path: Path) -> None:
    fd = _open_unheld(path)
    if fd is not None:
        path.unlink(missing_ok=True)
        os.close(fd)


def _reap_record(root: Path, container_id: str, runc: str | None) -> bool:
    record_path = root / f"{container_id}{_RECORD_SUFFIX}"
    fd = _open_unheld(record_path)
    if fd is None:
        return False
    try:
        record = _read_record(fd)
        if record is not None and _owner_alive(record):
            return False
        if runc is not None:
            _delete_container(runc, container_id, record.runc_root if record else None)
        if not remove_bundle(root / container_id):
            return False
        record_path.unlink(missing_ok=True)
        return True
    finally:
        os.close(fd)


def _read_record(fd: int) -> Record | None:
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        data = json.loads(os.pread(fd, 1 << 16, 0))
        return Record(
            container_id=str(data["container_id"]),
            owner_pid=int(data["owner_pid"]),
            owner_start=int(data["owner_start"]),
            runc_root=str(data["runc_root"]) if data.get("runc_root") else None,
        )
    return None


def _owner_alive(record: Record) -> bool:
    # The lock is the proof of life; the pid and start time only keep a cog that lost
    # it somehow (another mount namespace, a copied cache) from being reaped alive.
    if record.owner_pid == os.getpid():
        return False  # the lock was free, so it is not one of ours any more
    return process_start_time(record.owner_pid) == record.owner_start


def _delete_container(runc: str, container_id: str, runc_root: str | None) -> None:
    command = [runc]
    if runc_root is not None and os.path.isabs(runc_root):
        command += ["--root", runc_root]
    subprocess.run([*command, "kill", container_id, "KILL"], capture_output=True, check=False)
    subprocess.run([*command, "delete", "--force", container_id], capture_output=True, check=False)
