"""Precompile .pyc into a layer: unchecked-hash, so they stay valid with normalised mtimes.

``-s STAGING -p /`` (``-d DIR`` per directory on 3.8) makes each code object's co_filename
its in-image path. The compiler is the image's own interpreter, run from the staged rootfs
through its dynamic loader, so the bytes do not depend on the host's Python; the host's is
used only when the rootfs cannot run here (another architecture) and its version matches.
"""

from __future__ import annotations

import os
import platform
import posixpath
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cog.errors import BuildError

from .oci import ARCHITECTURES
from .tree import Tree


@dataclass(frozen=True)
class Interpreter:
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    identity: str = ""  # what the layer key records about the compiler
    python_version: str = ""  # "3.8": its compileall has -d but no -s/-p


def _inside(rootfs: Path, rel: str) -> Path | None:
    """``rel`` in the rootfs with symlinks followed inside it (an absolute link is read
    against the rootfs, not the host); None when it does not exist."""
    parts = [p for p in rel.split("/") if p]
    done: list[str] = []
    hops = 0
    while parts:
        name = parts.pop(0)
        path = rootfs.joinpath(*done, name)
        if path.is_symlink():
            hops += 1
            if hops > 40:
                return None
            target = os.readlink(path)
            base = [] if target.startswith("/") else done
            parts = [
                p
                for p in posixpath.normpath("/".join([*base, target])).split("/")
                if p and p != ".."
            ] + parts
            done = []
            continue
        done.append(name)
    path = rootfs.joinpath(*done)
    return path if path.exists() else None


def python_prefix(rootfs: Path, python_version: str) -> str | None:
    """``usr`` (Debian's python3.X) or ``usr/local`` (python.org's build), by where it is."""
    for prefix in ("usr", "usr/local"):
        if _inside(rootfs, f"{prefix}/bin/python{python_version}") is not None:
            return prefix
    return None


def rootfs_interpreter(rootfs: Path, python_version: str, arch: str) -> Interpreter | None:
    prefix = python_prefix(rootfs, python_version)
    base = rootfs_interpreter_loader(rootfs, arch)
    if prefix is None or base is None:
        return None
    python = _inside(rootfs, f"{prefix}/bin/python{python_version}")
    if python is None:
        return None
    ld_so, libs = base
    return Interpreter(
        argv=(str(ld_so), "--library-path", f"{libs}:{rootfs / 'usr/local/lib'}", str(python)),
        env={"PYTHONHOME": str(rootfs / prefix), "PYTHONHASHSEED": "0", "LC_ALL": "C"},
        identity=f"rootfs python{python_version}",
        python_version=python_version,
    )


def standalone_interpreter(
    os_rootfs: Path, staging: Path, python_version: str, arch: str
) -> Interpreter | None:
    """A python-build-standalone interpreter staged under ``staging``/usr/local, run with the
    dynamic loader and C library of the Debian rootfs it will sit on in the image."""
    base = rootfs_interpreter_loader(os_rootfs, arch)
    python = staging / f"usr/local/bin/python{python_version}"
    if base is None or not python.is_file():
        return None
    ld_so, libs = base
    return Interpreter(
        argv=(str(ld_so), "--library-path", f"{staging / 'usr/local/lib'}:{libs}", str(python)),
        env={"PYTHONHOME": str(staging / "usr/local"), "PYTHONHASHSEED": "0", "LC_ALL": "C"},
        identity=f"python-build-standalone python{python_version}",
        python_version=python_version,
    )


def rootfs_interpreter_loader(rootfs: Path, arch: str) -> tuple[Path, str] | None:
    """The rootfs's dynamic loader and its library path, when it can run on this host."""
    known = ARCHITECTURES.get(arch)
    if known is None or platform.machine() != known.machine:
        return None
    triplet, loader = known.triplet, known.loader
    ld_so = next(
        (
            found
            for rel in (f"usr/lib/{triplet}/{loader}", f"lib/{triplet}/{loader}", f"lib64/{loader}")
            if (found := _inside(rootfs, rel)) is not None
        ),
        None,
    )
    if ld_so is None:
        return None
    libs = ":".join(str(rootfs / d) for d in (f"usr/lib/{triplet}", f"lib/{triplet}", "usr/lib"))
    return ld_so, libs


def host_interpreter(python_version: str) -> Interpreter | None:
    if f"{sys.version_info.major}.{sys.version_info.minor}" != python_version:
        return None
    return Interpreter(
        argv=(sys.executable,),
        env={"PYTHONHASHSEED": "0", "LC_ALL": "C"},
        identity=f"host python {platform.python_version()}",
        python_version=python_version,
    )


def compile_into(tree: Tree, dirs: Sequence[str], interpreter: Interpreter) -> int:
    """Compile every .py under ``dirs`` (in-image paths) and add the .pyc to the tree."""
    targets = [str(tree.host_path(tree.resolve(d))) for d in dirs if d in tree]
    if not targets:
        return 0
    if interpreter.python_version == "3.8":  # no -s/-p: -d names one directory's path
        for d in (tree.resolve(d) for d in dirs if d in tree):
            _compile(interpreter, ["-d", f"/{d.lstrip('/')}", str(tree.host_path(d))])
        return sum(tree.adopt_new_files(d) for d in dirs if d in tree)
    _compile(interpreter, ["-s", str(tree.staging), "-p", "/", *targets])
    return sum(tree.adopt_new_files(d) for d in dirs if d in tree)


def _compile(interpreter: Interpreter, paths: list[str]) -> None:
    argv = [
        *interpreter.argv,
        "-B",
        "-s",
        "-m",
        "compileall",
        "-q",
        # One process: marshal marks a string shared by its reference count, which in a
        # pool of workers depends on what each compiled before (pyenv 3.10 and 3.12 gave
        # different .pyc bytes from one build to the next with -j0).
        "-j1",
        "--invalidation-mode",
        "unchecked-hash",
        *paths,
    ]
    proc = subprocess.run(argv, env=interpreter.env, capture_output=True, text=True, check=False)
    # compileall exits 1 when some file does not compile (templates, py2-only test data);
    # those files simply get no .pyc, as with pip.
    if proc.returncode not in (0, 1):
        raise BuildError(
            f"precompiling .pyc with {interpreter.identity} failed ({proc.returncode}):\n"
            + (proc.stderr or proc.stdout)[-2000:]
        )
