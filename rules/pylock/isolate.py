"""uv, run where an sdist's own code cannot harm the host, when sdists are allowed.

To read the metadata of an sdist that does not state it statically (PKG-INFO 2.2+ without
Dynamic fields, or pyproject.toml's [project]), uv builds it: the sdist's setup.py runs.
Under bubblewrap that code writes only to the resolve's own folder (uv's cache and TMPDIR
go there too, so nothing it leaves is reused later) and has no capabilities. It keeps the
network: uv needs the indexes.

With the target's root filesystem (``in_target``), uv runs inside it and builds with the
target's own interpreter, so setup.py sees the Python the image will have; the host shows
only uv itself, the resolve's folder and the local index folders. Without one
(``isolated``), the host is visible read-only and uv picks a host interpreter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from cog.rules.host_tools import which

# argv of `uv pip compile` and the folder it runs in -> the argv to run
Sandbox = Callable[[list[str], Path], list[str]]


def _common(work: Path) -> list[str]:
    (work / "tmp").mkdir(exist_ok=True)
    (work / "home").mkdir(exist_ok=True)
    command = ["--bind", str(work), str(work), "--chdir", str(work)]
    command += ["--setenv", "TMPDIR", str(work / "tmp"), "--setenv", "HOME", str(work / "home")]
    command += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL"]
    return [*command, "--new-session", "--die-with-parent"]


def isolated(argv: list[str], work: Path, python: str | None = None) -> list[str]:
    """``argv`` (uv pip compile, run in ``work``) under bubblewrap, when it is installed;
    with ``python`` (a host path), uv builds with that interpreter."""
    chosen = ["--python", python] if python else []
    bwrap = which("bwrap")
    if bwrap is None:
        return [*argv, *chosen]  # as pip would: the sdist's metadata build runs on the host
    command = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *_common(work)]
    return [*command, *argv, "--cache-dir", str(work / "uv-cache"), *chosen]


def in_target(rootfs: Path, python: str, host_paths: Sequence[str]) -> Sandbox:
    """A sandbox whose / is ``rootfs`` (read-only), where uv builds with ``python``."""

    def wrap(argv: list[str], work: Path) -> list[str]:
        bwrap = which("bwrap")
        if bwrap is None:
            return isolated(argv, work)
        # The CA certificates uv is told to trust (a proxy's, say) are the host's.
        certs = [os.environ.get(name, "") for name in ("SSL_CERT_FILE", "SSL_CERT_DIR")]
        wanted = {argv[0], *host_paths, *(c for c in certs if c.startswith("/"))}
        shown = sorted(p for p in wanted if Path(p).exists())
        command = [bwrap, *_rootfs_binds(rootfs, "", [*shown, str(work)])]
        command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108
        if Path("/etc/resolv.conf").exists():
            command += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
        for path in shown:
            command += ["--ro-bind", path, path]
        command += _common(work)
        return [*command, *argv, "--cache-dir", str(work / "uv-cache"), "--python", python]

    return wrap


def _rootfs_binds(rootfs: Path, under: str, host_paths: Sequence[str]) -> list[str]:
    """Binds showing ``rootfs/under`` read-only at ``/under``; a folder that holds one of
    ``host_paths`` becomes a tmpfs with its entries bound one by one, so that the host
    path's mount point can be made in it (a read-only bind cannot take a new folder)."""
    command: list[str] = []
    for entry in sorted((rootfs / under).iterdir() if under else rootfs.iterdir()):
        dest = f"{under}/{entry.name}" if under else entry.name
        if dest in ("proc", "dev", "tmp") or f"/{dest}" in host_paths:
            continue
        if entry.is_symlink():
            command += ["--symlink", os.readlink(entry), f"/{dest}"]
        elif entry.is_dir() and any(p.startswith(f"/{dest}/") for p in host_paths):
            command += ["--tmpfs", f"/{dest}", *_rootfs_binds(rootfs, dest, host_paths)]
        elif entry.is_dir() or entry.is_file():
            command += ["--ro-bind", str(entry), f"/{dest}"]
    return command
