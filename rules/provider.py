"""What building the layers needs besides the plan: the pinned files, the interpreter's
rootfs (unpacked once per key, kept in the cache), the compiler of the .pyc, where Python
installs packages in the image, and the builder of the lock's sdists.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cog.errors import BuildError
from cog.progress import Progress, phase

from . import layers
from .base_image import BaseImage
from .cache import Cache, LayerRecord
from .fetch import fetch
from .lockfile import DebPackage, Lock, Wheel
from .oci import ARCHITECTURES
from .pyc import Interpreter, host_interpreter, python_prefix, rootfs_interpreter
from .python_standalone import StandaloneBuild
from .sdist_build import SdistBuilder
from .standalone_layer import standalone_build
from .wheel import PythonLayout

Locator = Callable[[DebPackage | Wheel], list[str]]
# A layer's record by its index in the plan, once it is built (or taken from the cache).
Records = Callable[[int], LayerRecord | None]


def _machine(lock: Lock) -> str | None:
    known = ARCHITECTURES.get(lock.target.arch)
    return known.machine if known is not None else None


def rootfs_interpreter_possible(lock: Lock) -> bool:
    """Debian's interpreter, in the debs, runs here (the target is this machine's kind)."""
    return platform.machine() == _machine(lock) and any(
        d.name == f"python{lock.target.python_version}-minimal" for d in lock.debian
    )


def _uses_rootfs_python(lock: Lock, base: BaseImage | None, pbs: StandaloneBuild | None) -> bool:
    if base is not None or pbs is not None:
        return platform.machine() == _machine(lock)
    return rootfs_interpreter_possible(lock)


def compiler_id(lock: Lock, base: BaseImage | None, pbs: StandaloneBuild | None) -> str:
    """What compiles the image's .pyc: the image's own interpreter, or the host's."""
    python = lock.target.python_version
    uses_rootfs = _uses_rootfs_python(lock, base, pbs)
    if base is not None and uses_rootfs:
        return "rootfs:" + base.rootfs_key()
    if pbs is not None and uses_rootfs:
        return "rootfs:python-build-standalone:" + pbs.sha256
    if rootfs_interpreter_possible(lock):
        python_debs = sorted(d.sha256 for d in lock.debian if f"python{python}" in d.name)
        return "rootfs:" + ",".join(python_debs)
    host = host_interpreter(python)
    return host.identity if host else "none"


class Provider:
    """Fetches, unpacks and picks for one build; safe to use from the builder threads."""

    def __init__(
        self,
        lock: Lock,
        cache: Cache,
        locate: Locator,
        progress: Progress,
        *,
        base: BaseImage | None,
        mtime: int,
    ) -> None:
        self.lock, self.cache, self.locate, self.progress = lock, cache, locate, progress
        self.base, self.mtime = base, mtime
        self.python = lock.target.python_version
        self.standalone = standalone_build(lock)
        self._rootfs: Path | None = None
        self._rootfs_lock = threading.Lock()
        self._layout: PythonLayout | None = None
        self._sdists: SdistBuilder | None = None
        self._bottom: tuple[int, str] = (1, "")  # layers in the rootfs, its key
        self._records: Records = lambda _: None

    def compiler_id(self) -> str:
        return compiler_id(self.lock, self.base, self.standalone)

    def attach(self, bottom: int, rootfs_key: str, records: Records) -> None:
        """The plan's bottom layers make the rootfs; ``records`` gives them once built."""
        self._bottom, self._records = (bottom, rootfs_key), records

    # pinned files

    def fetch_all(self, items: Sequence[DebPackage | Wheel]) -> list[Path]:
        missing = sum(i.size for i in items if self.cache.blob_path(i.sha256) is None)
        if not missing:
            return [self._cached(i) for i in items]
        with (
            phase(self.progress, "Fetching", done="fetched", noun="files", total=missing) as p,
            ThreadPoolExecutor(max_workers=8) as pool,
        ):
            return list(
                pool.map(
                    lambda i: fetch(self.locate(i), i.sha256, i.size, self.cache, progress=p),
                    items,
                )
            )

    def _cached(self, item: DebPackage | Wheel) -> Path:
        found = self.cache.blob_path(item.sha256)
        return found if found is not None else self.fetch_all([item])[0]

    def _blob(self, index: int) -> Path:
        record = self._records(index)
        assert record is not None
        blob = self.cache.blob_path(record.digest)
        assert blob is not None
        return blob

    # the rootfs

    def os_rootfs(self) -> Path:
        """The bottom layers unpacked (the interpreter's rootfs)."""
        with self._rootfs_lock:
            return self._os_rootfs_locked()

    def _os_rootfs_locked(self) -> Path:
        if self._rootfs is None:
            bottom, key = self._bottom
            cached = self.cache.rootfs(key)
            if cached is None:
                staged = self.cache.temp_dir("rootfs")
                for index in range(bottom):
                    layers.extract_layer(self._blob(index), staged)
                cached = self.cache.put_rootfs(key, staged)
            self._rootfs = cached
        return self._rootfs

    def os_only_rootfs(self, os_key: str) -> Path:
        """The OS layer alone unpacked, below a python-build-standalone layer."""
        cached = self.cache.rootfs(os_key)
        if cached is None:
            staged = self.cache.temp_dir("rootfs")
            layers.extract_layer(self._blob(0), staged)
            cached = self.cache.put_rootfs(os_key, staged)
        return cached

    def keep_os_rootfs(self, os_key: str, staging: Path) -> None:
        """The OS layer's staged tree runs as it is: keep it for later builds' .pyc."""
        with self._rootfs_lock:
            rootfs = self.cache.put_rootfs(os_key, staging)
            if self._bottom[0] == 1:
                self._rootfs = rootfs

    # the interpreter

    def os_compiler(self) -> tuple[Interpreter | None, str | None]:
        """The OS layer's stdlib compiler: the host's, or (the rootfs arch) the rootfs's own."""
        if rootfs_interpreter_possible(self.lock):
            return None, self.lock.target.arch
        return host_interpreter(self.python), None

    def compiler(self) -> Interpreter | None:
        if _uses_rootfs_python(self.lock, self.base, self.standalone):
            rootfs = self.os_rootfs()
            interp = rootfs_interpreter(rootfs, self.python, self.lock.target.arch)
            if interp is not None:
                return interp
        return host_interpreter(self.python)

    def python_layout(self) -> PythonLayout:
        if self.standalone is not None:
            return PythonLayout.upstream(self.python)
        if self.base is None:
            return PythonLayout.debian(self.python)
        with self._rootfs_lock:
            if self._layout is None:
                prefix = python_prefix(self._os_rootfs_locked(), self.python)
                if prefix is None:
                    raise BuildError(
                        f"base image {self.base.reference} has no python{self.python} in "
                        "/usr/bin or /usr/local/bin",
                        "Use a base image with the Python that build.python_version names.",
                    )
                self._layout = (
                    PythonLayout.upstream(self.python)
                    if prefix == "usr/local"
                    else PythonLayout.debian(self.python)
                )
            return self._layout

    def sdists(self) -> SdistBuilder:
        """The builder of cog.lock's sdists, on the image's own interpreter."""
        if self._sdists is None:
            pbs = self.standalone

            def interpreter_layer() -> Path | None:
                record = self._records(1) if pbs is not None else None
                return self.cache.blob_path(record.digest) if record is not None else None

            identity = f"python-build-standalone:{pbs.sha256}" if pbs else "debian"
            self._sdists = SdistBuilder(
                self.lock,
                self.cache,
                self.fetch_all,
                self.progress,
                interpreter=(identity, interpreter_layer),
                mtime=self.mtime,
            )
        return self._sdists
