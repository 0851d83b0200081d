"""Plan and build an image's layers from cog.lock, reusing every layer whose key is cached.

Layers, most stable at the bottom: the OS (the debs, with Debian's python3.X in it: it is a
deb like the others and changes when they do; or, when cog.lock pins a python-build-standalone
build, the debs without a Python and that interpreter in a layer of its own), each wheel
over 100 MB alone, the other wheels, the cog runtime, one layer per ``build.run`` command,
each weights file (with separate weights), and the code. Missing layers build in parallel
threads: gzip and sha256 release the GIL, so two layers compress on two cores.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cog._paths import RUNTIME_SITE
from cog.errors import BuildError
from cog.progress import Progress, phase

from . import layers
from .base_image import BaseImage
from .cache import Cache, LayerRecord
from .fetch import fetch
from .image import MAX_LAYERS
from .lockfile import DebPackage, Lock, Wheel
from .oci import ARCHITECTURES
from .pyc import Interpreter, host_interpreter, python_prefix, rootfs_interpreter
from .python_standalone import StandaloneBuild, archive_urls
from .sandbox import RunStep, run_layer
from .sdist_build import SdistBuilder
from .self_package import dist_info, files_digest, package_files
from .standalone_layer import build_standalone_layer, standalone_build
from .wheel import PythonLayout

BIG_WHEEL = 100 * 1024 * 1024
Locator = Callable[[DebPackage | Wheel], list[str]]


@dataclass(frozen=True)
class Assembly:
    lock: Lock
    project_dir: Path
    code_files: tuple[str, ...]  # relative paths for the code layer
    # (project-relative path, in-image path without the leading /): a layer each
    weights: tuple[tuple[str, str], ...] = ()
    run_steps: tuple[RunStep, ...] = ()
    cog_version: str = "0"
    secrets: dict[str, Path] = field(default_factory=dict)
    mtime: int = 0  # of every layer entry: 0, or SOURCE_DATE_EPOCH
    base: BaseImage | None = None  # build.base_image, pulled: it replaces the Debian layer
    cog_source: Path | None = None  # where the image's cog package comes from (default: ours)


@dataclass
class _Planned:
    key: str
    description: str
    build: Callable[[], LayerRecord]
    needs_rootfs: bool = False
    record: LayerRecord | None = None
    fixed: bool = False  # a base image's layer: never rebuilt
    # Fetched for all the layers to build together, in one phase, before any is built.
    inputs: Sequence[DebPackage | Wheel] = ()


class Assembler:
    def __init__(
        self, spec: Assembly, cache: Cache, locate: Locator, progress: Progress, *, reuse: bool
    ) -> None:
        self.spec, self.cache, self.locate, self.progress, self.reuse = (
            spec,
            cache,
            locate,
            progress,
            reuse,
        )
        self.python = spec.lock.target.python_version
        self._scratch = cache.temp_dir("build")
        self._rootfs: Path | None = None
        self._rootfs_lock = threading.Lock()
        self._planned: list[_Planned] = []
        self._bottom = 1  # how many layers make the interpreter's rootfs
        self._layout: PythonLayout | None = None
        self._standalone = standalone_build(spec.lock)

    def _key(self, kind: str, **inputs: object) -> str:
        return layers.layer_key(kind, mtime=self.spec.mtime, **inputs)

    # inputs

    def _fetch_all(self, items: Sequence[DebPackage | Wheel]) -> list[Path]:
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
        return found if found is not None else self._fetch_all([item])[0]

    def _rootfs_key(self) -> str:
        base = self.spec.base
        if base:
            return base.rootfs_key()
        if self._bottom == 1:
            return self._planned[0].key
        return layers.layer_key("rootfs", below=[p.key for p in self._planned[: self._bottom]])

    def _uses_rootfs_python(self) -> bool:
        if self.spec.base is not None or self._standalone is not None:
            return platform.machine() == _machine(self.spec.lock)
        return rootfs_interpreter_possible(self.spec.lock)

    def _compiler_id(self) -> str:
        lock = self.spec.lock
        if self.spec.base is not None and self._uses_rootfs_python():
            return "rootfs:" + self.spec.base.rootfs_key()
        if self._standalone is not None and self._uses_rootfs_python():
            return "rootfs:python-build-standalone:" + self._standalone.sha256
        if rootfs_interpreter_possible(lock):
            python_debs = sorted(d.sha256 for d in lock.debian if f"python{self.python}" in d.name)
            return "rootfs:" + ",".join(python_debs)
        host = host_interpreter(self.python)
        return host.identity if host else "none"

    def _compiler(self) -> Interpreter | None:
        if self._uses_rootfs_python():
            rootfs = self._ensure_os_rootfs()
            interp = rootfs_interpreter(rootfs, self.python, self.spec.lock.target.arch)
            if interp is not None:
                return interp
        return host_interpreter(self.python)

    def _ensure_os_rootfs(self) -> Path:
        with self._rootfs_lock:
            return self._ensure_os_rootfs_locked()

    def _ensure_os_rootfs_locked(self) -> Path:
        if self._rootfs is None:
            cached = self.cache.rootfs(self._rootfs_key())
            if cached is None:
                staged = self.cache.temp_dir("rootfs")
                for bottom in self._planned[: self._bottom]:
                    assert bottom.record is not None
                    blob = self.cache.blob_path(bottom.record.digest)
                    assert blob is not None
                    layers.extract_layer(blob, staged)
                cached = self.cache.put_rootfs(self._rootfs_key(), staged)
            self._rootfs = cached
        return self._rootfs

    def _python_layout(self) -> PythonLayout:
        if self._standalone is not None:
            return PythonLayout.upstream(self.python)
        if self.spec.base is None:
            return PythonLayout.debian(self.python)
        with self._rootfs_lock:
            if self._layout is None:
                prefix = python_prefix(self._ensure_os_rootfs_locked(), self.python)
                if prefix is None:
                    raise BuildError(
                        f"base image {self.spec.base.reference} has no python{self.python} in "
                        "/usr/bin or /usr/local/bin",
                        "Use a base image with the Python that build.python_version names.",
                    )
                self._layout = (
                    PythonLayout.upstream(self.python)
                    if prefix == "usr/local"
                    else PythonLayout.debian(self.python)
                )
            return self._layout

    # plan

    def plan(self) -> list[_Planned]:
        lock, spec = self.spec.lock, self.spec
        compiler_id = self._compiler_id()
        debs = list(lock.debian)
        if spec.base is not None:
            planned = [
                _Planned(record.digest, record.description, _never, record=record, fixed=True)
                for record in spec.base.layers
            ]
            self._bottom = len(planned)
        else:
            planned = [self._os_planned(debs, compiler_id)]
            if self._standalone is not None:
                planned.append(self._standalone_planned(self._standalone, planned[0].key))
            self._bottom = len(planned)
        self._planned = planned
        big = sorted((w for w in lock.python if w.size > BIG_WHEEL), key=lambda w: w.name)
        small = sorted((w for w in lock.python if w.size <= BIG_WHEEL), key=lambda w: w.name)
        groups = [([w], f"wheel {w.filename}") for w in big]
        if small:
            groups.append((small, f"python packages ({len(small)})"))
        for wheels, description in groups:
            planned.append(self._wheel_layer(wheels, description, compiler_id))
        if lock.sdist:
            planned.append(self._sdist_layer(compiler_id))
        planned += self._runtime_layers(compiler_id)
        for step in spec.run_steps:
            below = [p.key for p in planned]
            key = self._key("run", command=step.command, mounts=step.mount_ids(), below=below)
            planned.append(
                _Planned(
                    key,
                    f"RUN {step.command}",
                    self._run_builder(step, len(planned)),
                    needs_rootfs=True,
                )
            )
        for rel, dest in spec.weights:
            planned.append(self._weights_layer(rel, dest))
        planned.append(self._code_layer())
        if len(planned) > MAX_LAYERS:
            raise BuildError(
                f"the image would have {len(planned)} layers; at most {MAX_LAYERS} are allowed",
                "Build without --separate-weights, or put weights files in fewer files.",
            )
        self._planned = planned
        return planned

    def _os_planned(self, debs: list[DebPackage], compiler_id: str) -> _Planned:
        key = self._key(
            "os",
            debs=[d.sha256 for d in debs],
            python=self.python,
            compiler="rootfs" if compiler_id.startswith("rootfs") else compiler_id,
        )
        description = f"debian packages ({len(debs)}) with python{self.python}"
        if self._standalone is not None:
            description = f"debian packages ({len(debs)})"
        return _Planned(key, description, lambda: self._build_os(debs), inputs=debs)

    def _standalone_planned(self, build: StandaloneBuild, os_key: str) -> _Planned:
        # The .pyc are compiled by the interpreter itself, whatever the OS layer holds.
        key = self._key("python-standalone", sha256=build.sha256, python=self.python)
        description = f"python {build.version} (python-build-standalone {build.release})"

        def build_layer() -> LayerRecord:
            urls = archive_urls(build, project_dir=self.spec.project_dir)
            archive = fetch(urls, build.sha256, None, self.cache, progress=self.progress)
            staging = self._scratch / "python-standalone"
            record = build_standalone_layer(
                archive,
                self.python,
                self.cache,
                staging=staging,
                os_rootfs=self._os_only_rootfs(os_key),
                arch=self.spec.lock.target.arch,
                description=description,
                mtime=self.spec.mtime,
            )
            shutil.rmtree(staging, ignore_errors=True)
            return record

        return _Planned(key, description, build_layer)

    def _os_only_rootfs(self, os_key: str) -> Path:
        cached = self.cache.rootfs(os_key)
        if cached is None:
            record = self._planned[0].record
            assert record is not None
            blob = self.cache.blob_path(record.digest)
            assert blob is not None
            staged = self.cache.temp_dir("rootfs")
            layers.extract_layer(blob, staged)
            cached = self.cache.put_rootfs(os_key, staged)
        return cached

    def _wheel_layer(
        self,
        wheels: list[Wheel],
        description: str,
        compiler_id: str,
        extra: list[tuple[str, Path | bytes]] | None = None,
        extra_digest: str = "",
        *,
        runtime_site: bool = False,
        built: Callable[[], list[Path]] | None = None,  # wheels made here, not fetched
    ) -> _Planned:
        where = {"site": RUNTIME_SITE} if runtime_site else {}
        key = self._key(
            "wheels",
            wheels=[w.sha256 for w in wheels],
            extra=extra_digest,
            python=self.python,
            compiler=compiler_id,
            **where,
        )

        def build() -> LayerRecord:
            paths = built() if built is not None else self._fetch_all(wheels)
            layout = self._python_layout()
            if runtime_site:  # apart from the model's packages, scripts off PATH
                site = RUNTIME_SITE.lstrip("/")
                layout = dataclasses.replace(layout, site=site, bin=f"{site}/bin")
            staging = self._scratch / key
            record, _ = layers.build_wheels_layer(
                paths,
                self.python,
                self.cache,
                staging=staging,
                compiler=self._compiler(),
                description=description,
                extra_files=[(f"{layout.site}/{rel}", data) for rel, data in extra or ()],
                mtime=self.spec.mtime,
                layout=layout,
            )
            shutil.rmtree(staging, ignore_errors=True)
            return record

        return _Planned(key, description, build, inputs=wheels)

    def _sdist_layer(self, compiler_id: str) -> _Planned:
        """The wheels built from cog.lock's sdists (``sdist_build``), in a layer of their own."""
        pbs = self._standalone

        def interpreter_layer() -> Path | None:
            record = self._planned[1].record if pbs is not None else None
            return self.cache.blob_path(record.digest) if record is not None else None

        identity = f"python-build-standalone:{pbs.sha256}" if pbs else "debian"
        builder = SdistBuilder(
            self.spec.lock,
            self.cache,
            self._fetch_all,
            self.progress,
            interpreter=(identity, interpreter_layer),
            mtime=self.spec.mtime,
        )
        description = f"python packages built from sdists ({len(self.spec.lock.sdist)})"
        digest = layers.layer_key("sdist-wheels", builds=builder.keys())
        return self._wheel_layer(
            [],
            description,
            compiler_id,
            extra_digest=digest,
            built=lambda: builder.wheels(reuse=self.reuse),
        )

    def _runtime_layers(self, compiler_id: str) -> list[_Planned]:
        """The runtime's wheels (stable), then the cog package itself (changes more often)."""
        version = self.spec.cog_version
        planned = []
        if wheels := sorted(self.spec.lock.runtime, key=lambda w: w.name):
            description = f"cog runtime dependencies ({len(wheels)} wheels)"
            planned.append(self._wheel_layer(wheels, description, compiler_id, runtime_site=True))
        files = package_files(self.spec.cog_source)
        extra: list[tuple[str, Path | bytes]] = [(r, p) for r, p in files]
        extra += dist_info(version)
        digest = layers.layer_key("cog", files=files_digest(files), version=version)
        planned.append(self._wheel_layer([], f"cog {version}", compiler_id, extra, digest))
        return planned

    def _weights_layer(self, rel: str, dest: str) -> _Planned:
        pinned = {w.path: w for w in self.spec.lock.weights}
        if rel not in pinned:
            raise BuildError(f"weights file {rel} is not in cog.lock", "Run `cog lock`.")
        entry = pinned[rel]
        key = self._key("weights", path=dest, sha256=entry.sha256)
        source = self.spec.project_dir / rel

        def build() -> LayerRecord:
            return layers.build_files_layer(
                [(dest, source)], self.cache, f"weights {rel}", mtime=self.spec.mtime
            )

        if self.cache.file_sha256(source) != entry.sha256:
            raise BuildError(
                f"weights file {rel} changed since cog.lock was written",
                "Run `cog lock` to pin the new file.",
            )
        return _Planned(key, f"weights {rel}", build)

    def _code_layer(self) -> _Planned:
        root = self.spec.project_dir
        files = [(f"src/{rel}", root / rel) for rel in self.spec.code_files]
        listing = [
            (
                dest,
                path.is_symlink(),
                self.cache.file_sha256(path) if not path.is_symlink() else str(path.readlink()),
                bool(path.lstat().st_mode & 0o111),
            )
            for dest, path in files
        ]
        key = self._key("code", files=listing)
        return _Planned(
            key,
            f"code ({len(files)} files)",
            lambda: layers.build_files_layer(files, self.cache, "code", mtime=self.spec.mtime),
        )

    def _build_os(self, debs: list[DebPackage]) -> LayerRecord:
        paths = self._fetch_all(debs)
        staging = self._scratch / "os-rootfs"
        inputs = [
            layers.DebInput(f"{d.name}_{d.version}_{d.architecture}.deb", p)
            for d, p in zip(debs, paths, strict=True)
        ]
        compiler: Interpreter | None = None
        if not rootfs_interpreter_possible(self.spec.lock):
            compiler = host_interpreter(self.python)
        rootfs_arch = (
            self.spec.lock.target.arch if rootfs_interpreter_possible(self.spec.lock) else None
        )
        record = layers.build_os_layer(
            inputs,
            self.python,
            self.cache,
            staging=staging,
            compiler=compiler,
            description=self._planned[0].description,
            rootfs_arch=rootfs_arch,
            mtime=self.spec.mtime,
        )
        with self._rootfs_lock:
            # The staged tree runs as it is: keep it for later builds' .pyc compiles.
            rootfs = self.cache.put_rootfs(self._planned[0].key, staging)
            if self._bottom == 1:
                self._rootfs = rootfs
        return record

    def _run_builder(self, step: RunStep, index: int) -> Callable[[], LayerRecord]:
        def build() -> LayerRecord:
            below = self._planned[:index]
            blobs = []
            for p in below:
                assert p.record is not None
                blob = self.cache.blob_path(p.record.digest)
                assert blob is not None
                blobs.append(blob)
            workdir = self._scratch / f"run-{index}"
            secrets = self.spec.secrets
            return run_layer(step, blobs, workdir, self.cache, secrets, mtime=self.spec.mtime)

        return build

    # build

    def build(self) -> list[LayerRecord]:
        planned = self.plan()
        try:
            for p in planned:
                if not p.fixed:
                    p.record = self.cache.get_layer(p.key) if self.reuse else None
            self._build_missing(planned)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        return [p.record for p in planned if p.record is not None]

    def _build_one(self, p: _Planned, progress: Progress) -> None:
        task = progress.task(p.description)
        p.record = p.build()
        self.cache.put_layer(p.key, p.record)
        task.advance(p.record.size)  # the compressed size: what the summary line adds up
        task.finish(f"{p.record.size / 1e6:.1f} MB")

    def _build_missing(self, planned: list[_Planned]) -> None:
        self._fetch_all([i for p in planned if p.record is None for i in p.inputs])
        with phase(self.progress, "Building layers", done="built", noun="layers") as progress:
            rest = planned[self._bottom :]
            for bottom in planned[: self._bottom]:
                if bottom.record is None:
                    self._build_one(bottom, progress)
            parallel = [p for p in rest if p.record is None and not p.needs_rootfs]
            with ThreadPoolExecutor(max_workers=max(2, len(parallel))) as pool:
                for future in [pool.submit(self._build_one, p, progress) for p in parallel]:
                    future.result()
            for p in rest:
                if p.record is None:
                    self._build_one(p, progress)


def _never() -> LayerRecord:
    raise AssertionError("a base image layer is never built")


def _machine(lock: Lock) -> str | None:
    known = ARCHITECTURES.get(lock.target.arch)
    return known.machine if known is not None else None


def rootfs_interpreter_possible(lock: Lock) -> bool:
    return platform.machine() == _machine(lock) and any(
        d.name == f"python{lock.target.python_version}-minimal" for d in lock.debian
    )
