"""``build.run`` commands: run inside the assembled rootfs with bubblewrap, keep the changes.

The layers below are unpacked into a scratch rootfs, the command runs there as root in
its own mount and PID namespaces (sharing the network, as ``docker build`` does), and
whatever it added, changed or removed becomes a layer (removals as OCI whiteouts).
Secret mounts are bound read-only for the command only; their mount points are dropped
from the diff, so no secret ever reaches a layer.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cog.rules.host_tools import require

from cog.errors import BuildError

from .cache import Cache, LayerRecord
from .image import DEFAULT_PATH
from .layers import extract_layer
from .tar import Entry, write_layer

_Snapshot = dict[str, tuple[int, int, int, int, int, str]]


@dataclass(frozen=True)
class RunStep:
    command: str
    mounts: tuple[tuple[str, str], ...] = ()  # (secret id, target path)

    def mount_ids(self) -> list[list[str]]:
        return [[secret_id, target] for secret_id, target in self.mounts]


def _snapshot(root: Path) -> _Snapshot:
    snap: _Snapshot = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
            rel = os.path.relpath(full, root)
            snap[rel] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, link)
    return snap


def _bwrap_argv(rootfs: Path, step: RunStep, secrets: Mapping[str, Path]) -> list[str]:
    argv = [
        "bwrap",
        "--bind",
        str(rootfs),
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",  # noqa: S108  (the sandbox's own /tmp, kept out of the layer)
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--chdir",
        "/",
        "--clearenv",
        "--setenv",
        "PATH",
        DEFAULT_PATH,
        "--setenv",
        "HOME",
        "/root",
        "--setenv",
        "LANG",
        "C.UTF-8",
    ]
    if Path("/etc/resolv.conf").exists():
        argv += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
    for secret_id, target in step.mounts:
        if secret_id not in secrets:
            raise BuildError(
                f"build.run command {step.command!r} mounts secret {secret_id!r}, "
                "which was not given",
                f"Pass it: cog build --secret id={secret_id},src=PATH",
            )
        argv += ["--ro-bind", str(secrets[secret_id]), target]
    return [*argv, "/bin/sh", "-c", step.command]


def run_layer(
    step: RunStep,
    below: Sequence[Path],
    workdir: Path,
    cache: Cache,
    secrets: Mapping[str, Path],
    *,
    mtime: int = 0,
) -> LayerRecord:
    require("bwrap", BuildError)
    rootfs = workdir / "rootfs"
    for blob in below:
        extract_layer(blob, rootfs)
    if not (rootfs / "usr/bin/sh").exists() and not (rootfs / "bin/sh").is_symlink():
        raise BuildError(
            f"build.run command {step.command!r} needs /bin/sh in the image",
            "Add dash to build.system_packages in cog.yaml, then run `cog lock`.",
        )
    before = _snapshot(rootfs)
    proc = subprocess.run(
        _bwrap_argv(rootfs, step, secrets), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise BuildError(
            f"build.run command {step.command!r} failed with exit status {proc.returncode}:\n"
            + (proc.stdout + proc.stderr)[-3000:]
        )
    # Mount points bwrap created (for secrets, resolv.conf) are not the command's work.
    created = _created_mount_points(step, set(before))
    for rel in sorted(created, key=lambda r: -r.count("/")):
        path = rootfs / rel
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):  # not empty: the command wrote there too
                path.rmdir()
        elif path.is_file() and path.stat().st_size == 0:
            path.unlink()
    ignored = {"tmp", "proc", "dev", "etc/resolv.conf"} | {t.strip("/") for _, t in step.mounts}
    entries = diff_entries(rootfs, before, _snapshot(rootfs), ignored)
    record = write_layer(entries, cache, f"RUN {step.command}", mtime=mtime)
    shutil.rmtree(workdir, ignore_errors=True)
    return record


def _created_mount_points(step: RunStep, existed: set[str]) -> set[str]:
    created: set[str] = set()
    for target in ["etc/resolv.conf", *(t.strip("/") for _, t in step.mounts)]:
        parts = target.split("/")
        for i in range(1, len(parts) + 1):
            rel = "/".join(parts[:i])
            if rel not in existed:
                created.add(rel)
    return created


def _same(
    before: tuple[int, int, int, int, int, str] | None, after: tuple[int, int, int, int, int, str]
) -> bool:
    if before is None:
        return False
    if stat.S_ISDIR(after[0]) and stat.S_ISDIR(before[0]):
        # A directory whose only change is its mtime (an entry added and removed) is unchanged.
        return before[:3] == after[:3]
    return before == after


def diff_entries(root: Path, before: _Snapshot, after: _Snapshot, ignored: set[str]) -> list[Entry]:
    def skip(rel: str) -> bool:
        return any(rel == i or rel.startswith(i + "/") for i in ignored)

    entries: list[Entry] = []
    as_root = os.geteuid() == 0
    for rel, (mode, uid, gid, _size, _mtime, link) in after.items():
        if skip(rel) or _same(before.get(rel), after[rel]):
            continue
        owner = (uid, gid) if as_root else (0, 0)
        if stat.S_ISDIR(mode):
            entries.append(Entry(rel, "dir", stat.S_IMODE(mode), *owner))
        elif stat.S_ISLNK(mode):
            entries.append(Entry(rel, "symlink", 0o777, *owner, linkname=link))
        elif stat.S_ISREG(mode):
            entries.append(Entry(rel, "file", stat.S_IMODE(mode), *owner, source=root / rel))
    removed = set(before) - set(after)
    for rel in sorted(removed):
        parent = os.path.dirname(rel)
        if skip(rel) or (parent and parent in removed):
            continue
        whiteout = os.path.join(parent, ".wh." + os.path.basename(rel))
        entries.append(Entry(whiteout, "file", 0o644, data=b""))
    # A changed file's parent directories must be in the layer for the tar to extract.
    present = {e.path for e in entries}
    for e in list(entries):
        parent = os.path.dirname(e.path)
        while parent and parent not in present:
            mode = after.get(parent, (0o40755,))[0]
            entries.append(Entry(parent, "dir", stat.S_IMODE(mode)))
            present.add(parent)
            parent = os.path.dirname(parent)
    return entries
