"""``build.run`` commands: run inside the assembled rootfs with bubblewrap, keep the changes.

The layers below are unpacked into a scratch rootfs, the command runs there as root in
its own mount and PID namespaces (sharing the network, as ``docker build`` does), and
whatever it added, changed or removed becomes a layer (removals as OCI whiteouts).
Secret mounts are bound read-only for the command only; their mount points are dropped
from the diff, so no secret ever reaches a layer. BuildKit ``--mount=`` prefixes
(``run_mounts``) add cache directories, kept in cog's cache between builds and never in a
layer, and tmpfs directories.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cog.errors import BuildError
from cog.rules.host_tools import require

from .cache import Cache, LayerRecord
from .image_config import DEFAULT_PATH
from .layers import extract_layer
from .run_mounts import Mounts, parse_command
from .tar import Entry, write_layer

_Snapshot = dict[str, tuple[int, int, int, int, int, str]]


@dataclass(frozen=True)
class RunStep:
    command: str
    mounts: tuple[tuple[str, str], ...] = ()  # (secret id, target path)

    def mount_ids(self) -> list[list[str]]:
        return [[secret_id, target] for secret_id, target in self.mounts]

    def parsed(self) -> Mounts:
        """The shell command and every mount: cog.yaml's ``mounts`` and its --mount= prefixes."""
        parsed = parse_command(self.command)
        return Mounts(parsed.command, (*self.mounts, *parsed.secrets), parsed.caches, parsed.tmpfs)

    def mount_targets(self) -> list[str]:
        parsed = self.parsed()
        targets = [t for _, t in parsed.secrets] + [t for _, t in parsed.caches]
        return [t.strip("/") for t in [*targets, *parsed.tmpfs]]


# Locked into every image that has build.run steps, as the reference's base images have them.
STEP_DEBS = ("dash", "coreutils", "tar", "gzip", "curl", "ca-certificates")
STEP_WHEELS = ("pip",)
# What a step gets besides PATH and HOME: pip installs into the image's site-packages as
# root (Debian's EXTERNALLY-MANAGED marker is about apt's files, which no step shares).
STEP_ENV = {
    "LANG": "C.UTF-8",
    "PIP_BREAK_SYSTEM_PACKAGES": "1",
    "PIP_ROOT_USER_ACTION": "ignore",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "DEBIAN_FRONTEND": "noninteractive",
}


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


def cache_mount_dir(cache: Cache, cache_id: str) -> Path:
    digest = hashlib.sha256(cache_id.encode()).hexdigest()[:32]
    path = cache.root / "run-caches" / digest
    path.mkdir(parents=True, exist_ok=True)
    return path


def _bwrap_argv(
    rootfs: Path, step: RunStep, secrets: Mapping[str, Path], cache: Cache
) -> list[str]:
    mounts = step.parsed()
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
    ]
    for name, value in STEP_ENV.items():
        argv += ["--setenv", name, value]
    if Path("/etc/resolv.conf").exists():
        argv += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
    for cache_id, target in mounts.caches:
        argv += ["--bind", str(cache_mount_dir(cache, cache_id)), target]
    for target in mounts.tmpfs:
        argv += ["--tmpfs", target]
    for secret_id, target in mounts.secrets:
        if secret_id not in secrets:
            raise BuildError(
                f"build.run command {step.command!r} mounts secret {secret_id!r}, "
                "which was not given",
                f"Pass it: cog build --secret id={secret_id},src=PATH",
            )
        argv += ["--ro-bind", str(secrets[secret_id]), target]
    return [*argv, "/bin/sh", "-c", mounts.command]


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
    step.parsed()  # a bad --mount prefix is reported before anything is unpacked
    rootfs = workdir / "rootfs"
    for blob in below:
        extract_layer(blob, rootfs)
    if not (rootfs / "usr/bin/sh").exists() and not (rootfs / "bin/sh").is_symlink():
        raise BuildError(
            f"build.run command {step.command!r} needs /bin/sh in the image",
            "Run `cog lock` again: a lock made for build.run steps pins dash, coreutils, "
            "tar, gzip, curl, ca-certificates and pip.",
        )
    before = _snapshot(rootfs)
    proc = subprocess.run(
        _bwrap_argv(rootfs, step, secrets, cache),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if proc.returncode != 0:
        raise BuildError(
            f"build.run command {step.command!r} failed with exit status {proc.returncode}; "
            "its output ends:\n" + _tail(proc.stdout + proc.stderr),
            "Fix the command in cog.yaml's build.run (it runs as root in /, with /bin/sh -c).",
        )
    # Mount points bwrap created (for secrets, caches, resolv.conf) are not the command's work.
    targets = step.mount_targets()
    for rel in sorted(_created_mount_points(targets, set(before)), key=lambda r: -r.count("/")):
        path = rootfs / rel
        if path.is_dir() and not path.is_symlink():
            with contextlib.suppress(OSError):  # not empty: the command wrote there too
                path.rmdir()
        elif path.is_file() and path.stat().st_size == 0:
            path.unlink()
    ignored = {"tmp", "proc", "dev", "etc/resolv.conf", *targets}
    entries = diff_entries(rootfs, before, _snapshot(rootfs), ignored)
    record = write_layer(entries, cache, f"RUN {step.command}", mtime=mtime)
    shutil.rmtree(workdir, ignore_errors=True)
    return record


def _tail(output: str, lines: int = 40) -> str:
    kept = output.rstrip().splitlines()[-lines:]
    return "\n".join(line[-500:] for line in kept) or "(no output)"


def _created_mount_points(targets: list[str], existed: set[str]) -> set[str]:
    created: set[str] = set()
    for target in ["etc/resolv.conf", *targets]:
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
