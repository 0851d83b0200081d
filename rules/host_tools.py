"""The programs cog runs on the host: where each is found, and what to do when it is not.

Every host tool cog needs is named here once, with the Debian package that provides it,
so a missing one is always the same clear error and ``cog doctor`` can report (and with
``--fix`` install) each of them. uv is the exception: it is a Python dependency of cog
itself (PyPI's ``uv`` wheel carries the binary), so a checkout, a ``pip install`` and the
pex all bring it, and none of them depends on a uv that happens to be on PATH.

Which uv runs, first match wins:

1. ``COG_UV``: an explicit choice always wins (a uv built from source, a newer one).
2. The uv installed with cog (``uv.find_uv_bin()``): the version cog is tested with, and
   the platform tags cog passes to ``--python-platform`` are the ones it accepts.
3. A uv on PATH, for installs that left the wheel's binary out (a distribution package).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from cog.errors import CogError, LockError

UV_ENV = "COG_UV"


@dataclass(frozen=True)
class HostTool:
    name: str
    package: str  # the Debian package that provides it
    needed_for: str  # what in cog needs it, as the end of "… needs it"
    optional: bool = False  # needed only when the user asks for it (--runtime podman)

    def install_hint(self) -> str:
        return f"Install it: apt-get install {self.package}"


TOOLS: dict[str, HostTool] = {
    tool.name: tool
    for tool in (
        HostTool("runc", "runc", "cog run, serve and exec (the OCI runtime)"),
        HostTool("bwrap", "bubblewrap", "build.run steps (the build sandbox)"),
        HostTool("gpgv", "gpgv", "cog lock (verifying Debian's signed package indexes)"),
        HostTool("zstd", "zstd", "unpacking zstd-compressed Debian packages and image layers"),
        HostTool("podman", "podman", "--runtime podman", optional=True),
        HostTool("docker", "docker.io", "--runtime docker", optional=True),
        HostTool("skopeo", "skopeo", "--runtime docker (loading the image)", optional=True),
        # From NVIDIA's apt repository, not Debian's: it writes the CDI spec --gpus reads.
        HostTool(
            "nvidia-ctk", "nvidia-container-toolkit", "--gpus (writing the CDI spec)", optional=True
        ),
    )
}


def which(name: str, env: Mapping[str, str] | None = None) -> str | None:
    path = (os.environ if env is None else env).get("PATH", os.defpath)
    return shutil.which(name, path=path)


def require(name: str, error: type[CogError]) -> str:
    """The path of host tool ``name``, or ``error`` naming it and its Debian package."""
    found = which(name)
    if found is not None:
        return found
    tool = TOOLS[name]
    raise error(
        f"{name} is not installed: {tool.needed_for} needs it",
        f"{tool.install_hint()} (or run `cog doctor --fix` as root).",
    )


@dataclass(frozen=True)
class Uv:
    path: str
    source: str  # how it was chosen: "COG_UV", "installed with cog", "PATH"


class UvMissingError(LockError):
    """No uv binary could be found (or COG_UV names no executable)."""


def find_uv(env: Mapping[str, str] | None = None) -> Uv:
    env = os.environ if env is None else env
    override = env.get(UV_ENV)
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise UvMissingError(
                f"{UV_ENV}={override} is not an executable file",
                f"Point {UV_ENV} at a uv binary, or unset it to use the uv installed with cog.",
            )
        return Uv(override, UV_ENV)
    bundled = _bundled_uv()
    if bundled is not None:
        return Uv(bundled, "installed with cog")
    on_path = which("uv", env)
    if on_path is not None:
        return Uv(on_path, "PATH")
    raise UvMissingError(
        "uv is not installed: cog lock resolves Python packages with it",
        "Reinstall cog with its dependencies (the `uv` package from PyPI ships the binary), "
        f"or set {UV_ENV} to a uv binary.",
    )


def _bundled_uv() -> str | None:
    try:
        from uv import find_uv_bin  # noqa: PLC0415 (only locking needs it)
    except ImportError:
        return None
    try:
        return find_uv_bin()
    except FileNotFoundError:
        return None


def version(path: str) -> str | None:
    """The first line ``path --version`` prints, or None when it does not run."""
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    if done.returncode != 0 or not lines:
        return None
    return lines[0]
