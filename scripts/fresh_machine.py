#!/usr/bin/env python3
"""The README's two commands on a machine that has nothing: a pristine Debian 12 root.

    .venv/bin/python scripts/fresh_machine.py                 # demo, then the tests
    .venv/bin/python scripts/fresh_machine.py --demo-only
    .venv/bin/python scripts/fresh_machine.py -- -m unit      # pytest arguments after --

The root filesystem is what a fresh Debian 12 install holds and nothing more: the
Essential packages, apt, and python3, git, curl and ca-certificates. It is made with
this project's own Debian rules (the host's apt sources, InRelease checked with gpgv,
each .deb by sha256), unpacked, then installed for real by dpkg inside it, the second
stage of a debootstrap. The host's apt sources and pip/uv index configuration are copied
in (local folders they name are bound read-only), this repository's HEAD is cloned into
/root/hermetic-cog, and there, under bubblewrap as root with the host's network:
`scripts/demo`, then `CI=true scripts/test`. It fails if either fails.

Runs as root. Nothing is installed on the host; the root lives in a temporary folder
(or --root DIR, kept) and is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from cog.progress import NullProgress
from cog.rules._files import default_cache_root
from cog.rules.cache import Cache
from cog.rules.deb import MERGED_DIRS, DebFile
from cog.rules.debian.closure import closure
from cog.rules.debian.index import IndexedPackage
from cog.rules.debian.index_fetch import file_url_path
from cog.rules.debian.pinning import load_universe, pin, read_releases
from cog.rules.debian.targets import debian_data
from cog.rules.fetch import fetch
from cog.rules.pylock.index_config import read_index_config
from cog.rules.sources import deb_urls, suite_sources
from cog.rules.tree import Tree

ROOT = Path(__file__).resolve().parent.parent
SUITE = "bookworm"  # Debian 12
ARCH = {"x86_64": "amd64", "aarch64": "arm64"}[os.uname().machine]
# A fresh install: the Essential set, what makes it a system apt can manage, and the
# four tools a user reading the README is assumed to have.
FRESH_INSTALL = (
    *("apt", "mawk", "passwd", "adduser", "mount"),  # Priority: required, not Essential
    *("python3", "git", "curl", "ca-certificates"),
)
DEBS_IN_ROOT = "var/cache/fresh-machine/debs"
REPO_IN_ROOT = "root/hermetic-cog"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the host says about indexes and certificates, carried into the fresh machine.
CONFIG_FILES = (
    "etc/pip.conf",
    "etc/xdg/pip/pip.conf",
    "root/.pip/pip.conf",
    "root/.config/pip/pip.conf",
    "etc/uv/uv.toml",
    "etc/xdg/uv/uv.toml",
    "root/.config/uv/uv.toml",
)
CA_DIR = "usr/local/share/ca-certificates"
ENV_PREFIXES = ("PIP_", "UV_", "COG_DEBIAN_")
ENV_NAMES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


def step(message: str) -> None:
    print(f"== fresh-machine: {message}", flush=True)


def resolve() -> tuple[IndexedPackage, ...]:
    suite = debian_data().suites[SUITE]
    releases = read_releases(suite_sources(suite), ARCH)
    universe = load_universe(releases, ARCH, default_cache_root(), NullProgress())
    essential = sorted(
        name for name, versions in universe.by_name.items() if any(p.essential for p in versions)
    )
    label = f"Debian {SUITE}"
    return closure(universe, [*essential, *FRESH_INSTALL], suite_label=label)


def fetch_debs(packages: Iterable[IndexedPackage]) -> list[Path]:
    cache = Cache(default_cache_root())
    paths = []
    for p in packages:
        deb = pin(p)
        paths.append(fetch(deb_urls(deb), deb.sha256, deb.size, cache))
    return paths


def first_stage(root: Path, debs: Sequence[tuple[IndexedPackage, Path]]) -> None:
    """Every package's files in place, so dpkg and the maintainer scripts can run."""
    tree = Tree(root)
    for package, path in debs:
        DebFile(path, package.filename).unpack_into(tree)
    for name in MERGED_DIRS:
        if f"usr/{name}" in tree and name not in tree:
            tree.add_symlink(name, f"usr/{name}")
    store = root / DEBS_IN_ROOT
    store.mkdir(parents=True)
    for package, path in debs:
        shutil.copyfile(path, store / f"{package.name}_{package.architecture}.deb")
    for sticky in ("tmp", "var/tmp"):
        (root / sticky).mkdir(parents=True, exist_ok=True)
        (root / sticky).chmod(0o1777)
    dpkg = root / "var/lib/dpkg"
    for folder in ("info", "updates", "triggers", "alternatives"):
        (dpkg / folder).mkdir(parents=True, exist_ok=True)
    for name in ("status", "available"):
        (dpkg / name).touch()
    # Before base-passwd's maintainer scripts run, the tools want accounts to exist.
    for name in ("passwd", "group"):
        master = root / f"usr/share/base-passwd/{name}.master"
        shutil.copyfile(master, root / "etc" / name)


SECOND_STAGE = f"""
set -eu
exec >/var/log/fresh-machine-dpkg.log 2>&1
export DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
cd /{DEBS_IN_ROOT}
# debootstrap's order: the accounts and the base layout, then dpkg and libc, then the rest.
dpkg --force-depends --force-confnew --install base-passwd_*.deb base-files_*.deb
dpkg --force-depends --force-confnew --install dpkg_*.deb libc6_*.deb libc-bin_*.deb
dpkg --force-depends --force-confnew --skip-same-version --install *.deb
dpkg --configure --pending --force-confnew
apt-get check -qq
cd / && rm -rf /{DEBS_IN_ROOT}
"""


def copy_host_config(root: Path) -> list[Path]:
    """Apt sources, pip/uv configuration and local CAs; returns local folders they name."""
    etc_apt = Path("/etc/apt")
    for sub in ("sources.list", "sources.list.d", "apt.conf.d", "trusted.gpg.d", "auth.conf.d"):
        source = etc_apt / sub
        target = root / "etc/apt" / sub
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copyfile(source, target)
    for relative in CONFIG_FILES:
        source = Path("/") / relative
        if source.is_file():
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, root / relative)
    if Path("/", CA_DIR).is_dir():
        shutil.copytree(Path("/", CA_DIR), root / CA_DIR, dirs_exist_ok=True)
    index = read_index_config()
    local = {_local_folder(location) for location in index.find_links}
    # A local index's pages link to files beside it (ROOT/simple/NAME/ -> ROOT/files/).
    local |= {_local_folder(location, parent=True) for location in index.indexes()}
    # Constraint files (pip's `constraint`) are read where the configuration names them.
    local |= {Path(c).parent for c in index.constraints if Path(c).is_absolute()}
    return sorted(path for path in local if path is not None and path.is_dir())


def _local_folder(location: str, *, parent: bool = False) -> Path | None:
    if location.startswith("file:"):
        path = file_url_path(location)
    elif "://" in location:
        return None
    else:
        path = Path(location)
    if not path.is_absolute():
        return None
    return path.parent if parent else path


def host_environment() -> dict[str, str]:
    env = {"PATH": PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", "CI": "true"}
    for name, value in os.environ.items():
        if name.startswith(ENV_PREFIXES) or name in ENV_NAMES:
            env[name] = value
    return env


def bwrap(root: Path, binds: Iterable[Path], command: str, env: dict[str, str]) -> int:
    argv = ["bwrap", "--bind", str(root), "/", "--dev-bind", "/dev", "/dev"]
    argv += ["--proc", "/proc", "--bind", "/sys", "/sys"]
    argv += ["--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf"]
    for folder in binds:
        argv += ["--ro-bind", str(folder), str(folder)]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--hostname", "fresh-debian"]
    argv += ["--die-with-parent", "--cap-add", "ALL", "--clearenv"]
    for name, value in env.items():
        argv += ["--setenv", name, value]
    argv += ["--chdir", "/", "bash", "-c", command]
    return subprocess.run(argv, check=False).returncode


def clone(root: Path) -> None:
    target = root / REPO_IN_ROOT
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)], check=True
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, help="build the root here and keep it")
    parser.add_argument("--demo-only", action="store_true", help="skip the test command")
    parser.add_argument("pytest_args", nargs="*", help="arguments for scripts/test (after --)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("fresh-machine runs as root (it installs a Debian system with dpkg)", file=sys.stderr)
        return 2
    started = time.monotonic()
    work = args.root or Path(tempfile.mkdtemp(prefix="cog-fresh-", dir="/var/tmp"))
    root = work / "rootfs" if args.root else work
    try:
        step(f"resolving a fresh Debian 12 ({SUITE}, {ARCH})")
        packages = resolve()
        step(f"fetching {len(packages)} packages")
        debs = list(zip(packages, fetch_debs(packages), strict=True))
        step(f"unpacking into {root}")
        if root.exists():
            shutil.rmtree(root)
        first_stage(root, debs)
        binds = copy_host_config(root)
        env = host_environment()
        step("installing them with dpkg inside it")
        if bwrap(root, binds, SECOND_STAGE, env) != 0:
            log = (root / "var/log/fresh-machine-dpkg.log").read_text(errors="replace")
            print("\n".join(log.splitlines()[-30:]), file=sys.stderr)
            print("fresh-machine: dpkg could not install the base system", file=sys.stderr)
            return 1
        step(f"base system ready in {time.monotonic() - started:.0f} s; cloning {ROOT}")
        clone(root)
        commands = [("scripts/demo", f"cd /{REPO_IN_ROOT} && scripts/demo")]
        if not args.demo_only:
            test = shlex.join(["scripts/test", *args.pytest_args])
            commands.append(("scripts/test", f"cd /{REPO_IN_ROOT} && {test}"))
        for name, command in commands:
            begun = time.monotonic()
            step(f"{name} (in the fresh machine)")
            rc = bwrap(root, binds, command, env)
            step(f"{name} exited {rc} after {time.monotonic() - begun:.0f} s")
            if rc != 0:
                return 1
        step(f"both commands passed on a fresh Debian 12 in {time.monotonic() - started:.0f} s")
        return 0
    finally:
        if args.root is None:
            _remove_root(work)


def _remove_root(work: Path) -> None:
    # Containers the tests ran may have left mounts below it; never follow them out.
    subprocess.run(["umount", "-R", "-l", str(work)], capture_output=True, check=False)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
