"""Building the wheels of cog.lock's sdists, hermetically, with the image's own interpreter.

The build runs under bubblewrap with no network, in a rootfs made of the lock's
``build_debian`` packages (the image's closure plus build-essential and the interpreter's
headers, from the same suite) and, for a python-build-standalone interpreter, that
interpreter's layer. The rootfs is bound read-only; the source tree and the output folder
are the only writable places. The backend's locked requirements are installed from their
wheels into a folder on PYTHONPATH, and PEP 517's ``build_wheel`` is called directly, as
``pip wheel --no-build-isolation --no-deps`` would, with SOURCE_DATE_EPOCH set.

A built wheel is cached by (sdist sha256, build environment digest): every later build
with that environment takes the cached wheel, so two image builds from one cache give one
digest. A rebuild (``--no-cache``) that gives other bytes than the cached wheel is
reported: that package's build is not bit-reproducible (see the README).
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import tarfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cog.errors import BuildError
from cog.progress import Progress
from cog.rules._files import atomic_write
from cog.rules.host_tools import require
from cog.rules.pylock.simple import normalize

from .cache import Cache
from .image_config import DEFAULT_PATH
from .layers import layer_key
from .lockfile import DebPackage, Lock, Sdist, Wheel
from .oci import ARCHITECTURES
from .sdist import parse_build_system, sdist_files
from .sdist_rootfs import debian_rootfs
from .tar_extract import UnsafeMember, extract_all
from .tree import Tree
from .wheel import PythonLayout, install_wheel

BUILD_FORMAT = "cog-sdist-build-1"
# Zip cannot store times before 1980: SOURCE_DATE_EPOCH 0 is raised to this for a build.
_ZIP_EPOCH = 315532800
# Mount points the sandbox needs in the read-only rootfs.
_MOUNT_POINTS = ("build", "cog-build", "tmp", "proc", "dev")
_HOOK = """\
import importlib, os, sys
src, out, backend = sys.argv[1], sys.argv[2], sys.argv[3]
os.chdir(src)
sys.path[:0] = [os.path.join(src, p) for p in sys.argv[4:]]
module, _, attrs = backend.partition(":")
hooks = importlib.import_module(module)
for attr in filter(None, attrs.split(".")):
    hooks = getattr(hooks, attr)
print("built", hooks.build_wheel(out))
"""

Fetcher = Callable[[Sequence[DebPackage | Wheel]], list[Path]]


def build_epoch(mtime: int) -> int:
    return max(mtime, _ZIP_EPOCH)


def environment_digest(lock: Lock, sdist: Sdist, interpreter: str, mtime: int) -> str:
    """Everything besides the sdist that the built wheel's bytes may depend on."""
    wanted = set(sdist.build_requires)
    requires = sorted(
        w.sha256 for w in lock.build_python if f"{normalize(w.name)}=={w.version}" in wanted
    )
    return layer_key(
        BUILD_FORMAT,
        arch=lock.target.arch,
        python=lock.target.python_version,
        interpreter=interpreter,
        debs=sorted(d.sha256 for d in lock.build_debian),
        requires=requires,
        epoch=build_epoch(mtime),
    )


def build_key(sdist: Sdist, environment: str) -> str:
    """The cache key of the wheel built from ``sdist`` in ``environment``."""
    return layer_key("sdist-wheel", sdist=sdist.sha256, environment=environment)


@dataclass(frozen=True)
class BuiltWheel:
    filename: str
    sha256: str
    size: int


def _record_path(cache: Cache, key: str) -> Path:
    return cache.root / "sdist-wheels" / f"{key}.json"


def cached_wheel(cache: Cache, key: str) -> BuiltWheel | None:
    try:
        built = BuiltWheel(**json.loads(_record_path(cache, key).read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None
    return built if cache.blob_path(built.sha256) is not None else None


def _requires_of(lock: Lock, sdist: Sdist) -> list[Wheel]:
    by_pin = {f"{normalize(w.name)}=={w.version}": w for w in lock.build_python}
    missing = [pin for pin in sdist.build_requires if pin not in by_pin]
    if missing:
        raise BuildError(
            f"cog.lock pins {sdist.name} {sdist.version}'s build requirement "
            f"{', '.join(missing)} but has no [[build_python]] entry for it",
            "Run `cog lock` to regenerate cog.lock.",
        )
    return [by_pin[pin] for pin in sdist.build_requires]


class SdistBuilder:
    """Builds (or takes from the cache) the wheel of each of the lock's sdists."""

    def __init__(
        self,
        lock: Lock,
        cache: Cache,
        fetch: Fetcher,
        progress: Progress,
        *,
        # The interpreter's identity, and its layer's blob (None: Debian's, in the debs).
        interpreter: tuple[str, Callable[[], Path | None]],
        mtime: int,
    ) -> None:
        self.lock, self.cache, self.fetch, self.progress = lock, cache, fetch, progress
        self.interpreter_id, self.interpreter_layer = interpreter
        self.mtime = mtime

    def keys(self) -> list[str]:
        return [build_key(s, self._environment(s)) for s in self.lock.sdist]

    def _environment(self, sdist: Sdist) -> str:
        return environment_digest(self.lock, sdist, self.interpreter_id, self.mtime)

    def wheels(self, *, reuse: bool) -> list[Path]:
        """The built wheels' blobs, in the lock's order."""
        found = []
        for sdist in sorted(self.lock.sdist, key=lambda s: s.name):
            key = build_key(sdist, self._environment(sdist))
            earlier = cached_wheel(self.cache, key)
            built = earlier if reuse and earlier is not None else self._build(sdist, key)
            if earlier is not None and built.sha256 != earlier.sha256:
                self.progress.info(
                    f"{sdist.name} {sdist.version}: rebuilding its wheel from the sdist gave "
                    f"other bytes ({built.sha256[:12]}) than the cached build "
                    f"({earlier.sha256[:12]}): its build is not bit-reproducible; the image "
                    "now holds the new wheel"
                )
            blob = self.cache.blob_path(built.sha256)
            assert blob is not None
            found.append(blob)
        return found

    def _build(self, sdist: Sdist, key: str) -> BuiltWheel:
        known = ARCHITECTURES.get(self.lock.target.arch)
        machine = known.machine if known is not None else None
        if platform.machine() != machine:
            raise BuildError(
                f"{sdist.name} {sdist.version} is built from its sdist, which needs a "
                f"{self.lock.target.arch} machine (this one is {platform.machine()})",
                "Build on a machine of the target's architecture, or pin a version that "
                "ships a wheel for it.",
            )
        require("bwrap", BuildError)
        task = self.progress.task(f"Building {sdist.name} {sdist.version} from its sdist")
        rootfs = self.rootfs()
        requires = _requires_of(self.lock, sdist)
        archive, *wheels = self.fetch([sdist, *requires])
        work = self.cache.temp_dir("sdist")
        try:
            built = _run_build(sdist, archive, wheels, rootfs=rootfs, work=work, b=self)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        atomic_write(_record_path(self.cache, key), json.dumps(built.__dict__).encode())
        task.finish(f"built {built.filename}")
        return built

    def rootfs(self) -> Path:
        """The build rootfs (made once, then cached): read-only while a build runs."""
        return debian_rootfs(
            self.lock.build_debian,
            self.lock.target.python_version,
            self.cache,
            self.fetch,
            mount_points=_MOUNT_POINTS,
            interpreter=(self.interpreter_id, self.interpreter_layer),
        )


def _python_in(rootfs: Path, minor: str) -> str:
    for prefix in ("usr/local/bin", "usr/bin"):
        if (rootfs / prefix / f"python{minor}").exists():
            return f"/{prefix}/python{minor}"
    raise BuildError(
        f"the build rootfs has no python{minor}",
        "Run `cog lock` again: its build_debian packages should include the interpreter.",
    )


def _unpack_sdist(archive: Path, sdist: Sdist, dest: Path) -> Path:
    top, _ = sdist_files(archive, sdist.filename)
    if sdist.filename.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)  # noqa: S202  (zipfile drops absolute and .. parts)
    else:
        try:
            with tarfile.open(archive) as tar:
                extract_all(tar, dest, "data")
        except UnsafeMember as e:
            raise BuildError(
                f"sdist {sdist.filename} has an unsafe member: {e}",
                "cog does not unpack archives that write outside their directory; "
                "pin another version of the package.",
            ) from e
    return dest / top


def bwrap_argv(rootfs: Path, work: Path, env: dict[str, str], argv: list[str]) -> list[str]:
    command = ["bwrap", "--ro-bind", str(rootfs), "/", "--bind", str(work), "/build"]
    command += ["--ro-bind", str(work / "deps"), "/cog-build"]
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108
    # Offline, alone, and without root's capabilities: what an sdist runs is untrusted.
    command += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    command += ["--unshare-cgroup-try", "--cap-drop", "ALL", "--new-session"]
    command += ["--die-with-parent"]
    command += ["--chdir", "/build", "--clearenv"]
    for name, value in env.items():
        command += ["--setenv", name, value]
    return [*command, *argv]


def _run_build(
    sdist: Sdist, archive: Path, wheels: list[Path], *, rootfs: Path, work: Path, b: SdistBuilder
) -> BuiltWheel:
    minor = b.lock.target.python_version
    source = _unpack_sdist(archive, sdist, work / "src")
    found = sdist_files(archive, sdist.filename)[1].get("pyproject.toml")
    system = parse_build_system(found.decode("utf-8", "replace") if found else None, sdist.filename)
    deps = Tree(work / "deps")
    python = _python_in(rootfs, minor)
    # The requirements' scripts (cython, ...) are on PATH and start this interpreter.
    layout = PythonLayout(minor, "site", python, bin="bin")
    for wheel in wheels:
        install_wheel(deps, wheel, minor, layout)
    (work / "out").mkdir()
    (work / "home").mkdir()
    (work / "hook.py").write_text(_HOOK)
    env = {
        "PATH": f"/cog-build/bin:{DEFAULT_PATH}",
        "HOME": "/build/home",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",  # noqa: S108
        "PYTHONPATH": "/cog-build/site",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "SOURCE_DATE_EPOCH": str(build_epoch(b.mtime)),
    }
    inside = f"/build/src/{source.name}"
    argv = [python, "/build/hook.py", inside, "/build/out", system.backend]
    proc = subprocess.run(
        bwrap_argv(rootfs, work, env, [*argv, *system.backend_path]),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    built = sorted((work / "out").glob("*.whl"))
    if proc.returncode != 0 or len(built) != 1:
        raise BuildError(
            f"building {sdist.name} {sdist.version} from its sdist ({sdist.filename}) failed "
            f"with exit status {proc.returncode}; the build's output ends:\n"
            + _tail(proc.stdout + proc.stderr),
            "The build runs offline with cog.lock's build requirements and compilers only. "
            "If it needs a system library, add its -dev package to build.system_packages and "
            "run `cog lock`; or pin a version of the package that ships a wheel.",
        )
    blob = b.cache.put_file(built[0])
    return BuiltWheel(built[0].name, blob.name, blob.stat().st_size)


def _tail(output: str, lines: int = 30) -> str:
    kept = output.rstrip().splitlines()[-lines:]
    return "\n".join(line[-400:] for line in kept) or "(no output)"
