"""Precompile .pyc into a layer: unchecked-hash, so they stay valid with normalised mtimes.

``-s STAGING -p /`` makes each code object's co_filename its in-image path. The compiler
is the image's own interpreter, run from the staged rootfs through its dynamic loader,
so the bytes do not depend on the host's Python; the host's is used only when the rootfs
cannot run here (another architecture) and its version matches.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cog.errors import BuildError

from .tree import Tree

_LOADERS = {
    "amd64": ("x86_64", "x86_64-linux-gnu", "ld-linux-x86-64.so.2"),
    "arm64": ("aarch64", "aarch64-linux-gnu", "ld-linux-aarch64.so.1"),
}


@dataclass(frozen=True)
class Interpreter:
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    identity: str = ""  # what the layer key records about the compiler


def rootfs_interpreter(rootfs: Path, python_version: str, arch: str) -> Interpreter | None:
    machine, triplet, loader = _LOADERS.get(arch, ("", "", ""))
    if not machine or platform.machine() != machine:
        return None
    ld_so = rootfs / "usr/lib" / triplet / loader
    if not ld_so.exists():
        ld_so = rootfs / "usr/lib64" / loader
    python = rootfs / f"usr/bin/python{python_version}"
    if not ld_so.exists() or not python.exists():
        return None
    libs = f"{rootfs}/usr/lib/{triplet}:{rootfs}/usr/lib"
    return Interpreter(
        argv=(str(ld_so), "--library-path", libs, str(python)),
        env={"PYTHONHOME": str(rootfs / "usr"), "PYTHONHASHSEED": "0", "LC_ALL": "C"},
        identity=f"rootfs python{python_version}",
    )


def host_interpreter(python_version: str) -> Interpreter | None:
    if f"{sys.version_info.major}.{sys.version_info.minor}" != python_version:
        return None
    return Interpreter(
        argv=(sys.executable,),
        env={"PYTHONHASHSEED": "0", "LC_ALL": "C"},
        identity=f"host python {platform.python_version()}",
    )


def compile_into(tree: Tree, dirs: Sequence[str], interpreter: Interpreter) -> int:
    """Compile every .py under ``dirs`` (in-image paths) and add the .pyc to the tree."""
    targets = [str(tree.host_path(tree.resolve(d))) for d in dirs if d in tree]
    if not targets:
        return 0
    argv = [
        *interpreter.argv,
        "-B",
        "-s",
        "-m",
        "compileall",
        "-q",
        "-j0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(tree.staging),
        "-p",
        "/",
        *targets,
    ]
    proc = subprocess.run(argv, env=interpreter.env, capture_output=True, text=True, check=False)
    # compileall exits 1 when some file does not compile (templates, py2-only test data);
    # those files simply get no .pyc, as with pip.
    if proc.returncode not in (0, 1):
        raise BuildError(
            f"precompiling .pyc with {interpreter.identity} failed ({proc.returncode}):\n"
            + (proc.stderr or proc.stdout)[-2000:]
        )
    return sum(tree.adopt_new_files(d) for d in dirs if d in tree)
