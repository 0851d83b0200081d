#!/usr/bin/env python3
"""Build a single-file ``cog`` executable with pex, from this checkout.

    .venv/bin/python scripts/build_pex.py                 # dist/cog.pex: linux x86_64 + aarch64
    .venv/bin/python scripts/build_pex.py --per-arch      # also dist/cog-linux-<arch>.pex
    .venv/bin/python scripts/build_pex.py --arch x86_64   # dist/cog.pex for x86_64 only

The pex holds this checkout's own wheel and its runtime dependencies, resolved for CPython
3.11, 3.12 and 3.13 on each architecture, and runs ``cog.cli:main`` with any of those
system Pythons (``python3 cog.pex``, or ``./cog.pex``). It runs in pex's venv mode: the
first start turns it into a virtual environment under ~/.cache/pex, so ``sys.executable``
can import cog (schema fallback, ``cog serve --local`` workers) and later starts are fast.

Packages come from the user's own configuration (pip.conf, PIP_*, uv.toml, UV_*), read by
``cog.rules.pylock.index_config`` and handed to pex as explicit flags: pex runs pip isolated
(no pip.conf, no PIP_*), and knows nothing of uv's settings. Versions are requirements-dev.txt's.
Two builds from the same checkout and configuration give the same bytes.
"""

from __future__ import annotations

import argparse
import configparser
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cog.rules.host_tools import find_uv
from cog.rules.pylock.index_config import IndexConfig, read_index_config

ROOT = Path(__file__).resolve().parent.parent
# pex from the dev dependency group, beside the Python running this script (.venv/bin).
PEX = Path(sys.executable).parent / "pex"
ARCHES = ("x86_64", "aarch64")
PYTHONS = ("3.11", "3.12", "3.13")
ENTRY_POINT = "cog.cli:main"
# The oldest glibc the pex targets: manylinux2014 (glibc 2.17), which every dependency
# publishes wheels for, so one pex runs on any current Debian or Ubuntu.
MANYLINUX = "manylinux2014"
# The pip pex resolves with: a fixed one (pex's vendored pip predates the 2020 resolver).
PIP_VERSION = "25.2"
ZIP_EPOCH = "315532800"  # 1980-01-01, the earliest date a zip entry can hold


@dataclass(frozen=True)
class Target:
    output: Path
    arches: tuple[str, ...]
    pythons: tuple[str, ...]

    def platforms(self) -> list[str]:
        # A full version (3.11.0), so markers on python_full_version evaluate: the pins
        # pins quart differently below and from 3.13.
        return [
            f"linux_{arch}-cp-{py}.0-cp{py.replace('.', '')}"
            for arch in self.arches
            for py in self.pythons
        ]


def _pip_setting(key: str) -> str | None:
    """One pip setting that read_index_config does not cover (cert, timeout, retries)."""
    value = os.environ.get(f"PIP_{key.upper().replace('-', '_')}")
    if value:
        return value
    config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    files = [
        Path(d) / "pip" / "pip.conf"
        for d in os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
        if d
    ]
    files += [
        Path("/etc/pip.conf"),
        Path.home() / ".pip" / "pip.conf",
        config_home / "pip" / "pip.conf",
    ]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(Path(os.environ["PIP_CONFIG_FILE"]))
    found = None
    for path in files:  # a later file wins, as in pip
        parser = configparser.RawConfigParser()
        if path.is_file() and parser.read(path) and parser.has_option("global", key):
            found = parser.get("global", key)
    return found


_PIP_NETWORK_FLAGS = (
    ("cert", "--cert"),
    ("client-cert", "--client-cert"),
    ("proxy", "--proxy"),
    ("timeout", "--timeout"),
    ("retries", "--retries"),
)


def index_flags(index: IndexConfig) -> list[str]:
    """The user's indexes, find-links and constraints as pex flags."""
    flags = ["--no-use-pip-config"]
    if index.no_index:
        flags.append("--no-pypi")
    elif index.index_url is None:
        flags.append("--pypi")  # nobody configured an index: pip's default one
    else:
        flags += ["--no-pypi", "--index", index.index_url]
    if not index.no_index:
        for url in index.extra_index_urls:
            flags += ["--index", url]
    for link in index.find_links:
        flags += ["--find-links", link]
    for constraint in index.constraints:
        flags += ["--constraints", constraint]
    for key, flag in _PIP_NETWORK_FLAGS:
        value = _pip_setting(key) or (_pip_setting("default-timeout") if key == "timeout" else None)
        if value:
            flags += [flag, value]
    return flags


def _run(
    argv: list[str], what: str, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> bytes:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        raise SystemExit(f"{what} failed ({' '.join(argv)}):\n{output}")
    return done.stdout


def _checkout_files() -> list[str]:
    # Tracked and new files, not what .gitignore excludes (.venv, build/, dist/, caches).
    argv = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    out = _run(argv, "listing the checkout's files", cwd=ROOT)
    return sorted(name for name in out.decode().split("\0") if name and (ROOT / name).is_file())


def build_wheel(work: Path, index: IndexConfig) -> Path:
    """This checkout's wheel, built from a copy so the build never writes into the tree."""
    source = work / "source"
    for name in _checkout_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = work / "wheel"
    argv = [find_uv().path, "build", "--wheel", "--out-dir", str(out), "--no-config"]
    if index.index_url:
        argv += ["--default-index", index.index_url]
    argv += [a for url in index.extra_index_urls for a in ("--index", url)]
    argv += [a for link in index.find_links for a in ("--find-links", link)]
    if index.no_index:
        argv.append("--no-index")
    if index.index_strategy:
        argv += ["--index-strategy", index.index_strategy]
    # The wheel's zip entries take this date instead of the files' mtimes: pex records
    # them, and a build must not depend on when the checkout was touched.
    env = os.environ | {"SOURCE_DATE_EPOCH": ZIP_EPOCH}
    _run([*argv, str(source)], "building the cog wheel", env=env)
    (wheel,) = out.glob("*.whl")
    return wheel


def locked_pins(work: Path) -> Path:
    """requirements-dev.txt's versions as a constraints file: the pex ships what the tests
    ran with. Its markers stay (pip evaluates them per target); its hashes go (a pip
    constraints file names versions only)."""
    pins = work / "dev-pins.txt"
    text = (ROOT / "requirements-dev.txt").read_text().replace("\\\n", " ")
    lines = [line.split(" --hash=")[0].strip() for line in text.splitlines()]
    pins.write_text("".join(f"{line}\n" for line in lines if line and not line.startswith("#")))
    return pins


def pex_argv(target: Target, wheel: Path, pins: Path, index: IndexConfig) -> list[str]:
    argv = [str(PEX), str(wheel), "--entry-point", ENTRY_POINT, "--output-file", str(target.output)]
    argv += ["--constraints", str(pins)]
    for platform in target.platforms():
        argv += ["--platform", platform]
    argv += ["--manylinux", MANYLINUX, "--no-build"]
    argv += ["--pip-version", PIP_VERSION, "--resolver-version", "pip-2020-resolver"]
    argv += index_flags(index)
    # venv mode: sys.executable can import cog; --sh-boot starts ./cog.pex without a
    # Python probe when the venv already exists.
    argv += ["--venv", "--sh-boot", "--python-shebang", "/usr/bin/env python3"]
    # Reproducible: fixed timestamps (pex's default, said explicitly) and no git state.
    argv += ["--no-use-system-time", "--no-record-git-state", "--no-emit-warnings"]
    return argv


def build(target: Target, *, pex_root: Path | None = None) -> tuple[int, float, str]:
    """Write ``target.output``; return (size in bytes, seconds taken, sha256)."""
    started = time.perf_counter()
    if shutil.which(str(PEX)) is None:
        raise SystemExit(f"{PEX} not found: run this script with the project's .venv/bin/python")
    index = read_index_config()
    target.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cog-pex-") as tmp:
        wheel = build_wheel(Path(tmp), index)
        argv = pex_argv(target, wheel, locked_pins(Path(tmp)), index)
        if pex_root is not None:
            argv += ["--pex-root", str(pex_root)]
        _run(argv, f"pex, writing {target.output}")
    elapsed = time.perf_counter() - started
    data = target.output.read_bytes()
    return len(data), elapsed, hashlib.sha256(data).hexdigest()


def _median_s(argv: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def report_startup(pex: Path, runs: int) -> None:
    """``--version`` wall time: the pex (warm venv) against this venv's own ``cog``."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    # A system Python, as a user without this checkout has; else the one running us.
    python3 = "/usr/bin/python3" if Path("/usr/bin/python3").is_file() else sys.executable
    with tempfile.TemporaryDirectory(prefix="cog-pex-root-") as root:
        env["PEX_ROOT"] = root
        first = _median_s([python3, str(pex), "--version"], 1, env)
        python = _median_s([python3, str(pex), "--version"], runs, env)
        direct = _median_s([str(pex), "--version"], runs, env)
    venv = _median_s([str(Path(sys.executable).parent / "cog"), "--version"], runs, env)
    print(
        f"cog --version, median of {runs}: {python3} {pex.name} {python * 1e3:.0f} ms,"
        f" ./{pex.name} {direct * 1e3:.0f} ms, venv cog {venv * 1e3:.0f} ms"
        f" (pex/venv {python / venv:.2f}x); first start (creates the venv) {first:.1f} s"
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument(
        "--arch", action="append", choices=ARCHES, help="architecture(s) of dist/cog.pex"
    )
    parser.add_argument(
        "--python", action="append", choices=PYTHONS, help="CPython version(s) to support"
    )
    parser.add_argument(
        "--per-arch", action="store_true", help="also write dist/cog-linux-<arch>.pex"
    )
    parser.add_argument("--pex-root", type=Path, help="pex's cache (default: pex's own)")
    parser.add_argument(
        "--startup", type=int, metavar="N", help="then time N runs of dist/cog.pex --version"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    pythons = tuple(args.python or PYTHONS)
    targets = [Target(args.dist / "cog.pex", tuple(args.arch or ARCHES), pythons)]
    if args.per_arch:
        targets += [Target(args.dist / f"cog-linux-{a}.pex", (a,), pythons) for a in ARCHES]
    for target in targets:
        size, elapsed, digest = build(target, pex_root=args.pex_root)
        print(
            f"{target.output}: {size / 1e6:.1f} MB in {elapsed:.1f} s, sha256 {digest}"
            f" ({'+'.join(target.arches)}, CPython {' '.join(target.pythons)})"
        )
    if args.startup:
        report_startup(targets[0].output, args.startup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
