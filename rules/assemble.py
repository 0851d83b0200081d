"""Build an image's layers from cog.lock, reusing every layer whose key is cached.

``rules/plan.py`` says which layers and their keys; ``rules/provider.py`` gives what
building them takes (the pinned files, the rootfs, the compiler); this module reads what
the plan's keys depend on and builds the missing layers. The bottom layers (the rootfs)
build first, then every layer that does not run on the rootfs in parallel threads (gzip
and sha256 release the GIL, so two layers compress on two cores), then the ``build.run``
layers in order.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cog.progress import Progress, phase

from . import layers
from .base_image import BaseImage
from .cache import Cache, LayerRecord
from .fetch import fetch
from .lockfile import Lock
from .plan import CodeFile, CogPackage, LayerPlan, PlacedWeights, Plan, PlanInputs, plan_layers
from .provider import Locator, Provider
from .python_standalone import archive_urls
from .sandbox import RunStep, run_layer
from .self_package import dist_info, files_digest, package_files
from .standalone_layer import build_standalone_layer

__all__ = ["Assembler", "Assembly", "Locator"]


@dataclass(frozen=True)
class Assembly:
    lock: Lock
    project_dir: Path
    code_files: tuple[str, ...]  # relative paths for the code layer
    runtime_site: str  # in-image folder of the runtime's own wheels (cog._paths.RUNTIME_SITE)
    # (project-relative path, in-image path without the leading /): a layer each
    weights: tuple[tuple[str, str], ...] = ()
    run_steps: tuple[RunStep, ...] = ()
    cog_version: str = "0"
    secrets: dict[str, Path] = field(default_factory=dict)
    mtime: int = 0  # of every layer entry: 0, or SOURCE_DATE_EPOCH
    base: BaseImage | None = None  # build.base_image, pulled: it replaces the Debian layer
    cog_source: Path | None = None  # where the image's cog package comes from (default: ours)


class Assembler:
    def __init__(
        self, spec: Assembly, cache: Cache, locate: Locator, progress: Progress, *, reuse: bool
    ) -> None:
        self.spec, self.cache, self.progress, self.reuse = spec, cache, progress, reuse
        self.provider = Provider(
            spec.lock, cache, locate, progress, base=spec.base, mtime=spec.mtime
        )
        self._scratch = cache.temp_dir("build")
        self._records: list[LayerRecord | None] = []
        self._cog_files: list[tuple[str, Path | bytes]] = []
        self._os_key = ""  # below a python-build-standalone layer

    def plan_inputs(self) -> PlanInputs:
        """What the plan's keys depend on, read from the project and the host."""
        spec, provider = self.spec, self.provider
        files = package_files(spec.cog_source)
        self._cog_files = [(r, p) for r, p in files]
        self._cog_files += dist_info(spec.cog_version)
        root = spec.project_dir
        weights = tuple(
            PlacedWeights(rel, dest, self.cache.file_sha256(root / rel))
            for rel, dest in spec.weights
        )
        return PlanInputs(
            lock=spec.lock,
            compiler_id=provider.compiler_id(),
            cog=CogPackage(spec.cog_version, files_digest(files)),
            runtime_site=spec.runtime_site,
            code=tuple(self._code_file(rel) for rel in spec.code_files),
            weights=weights,
            run_steps=spec.run_steps,
            sdist_builds=tuple(provider.sdists().keys()) if spec.lock.sdist else (),
            mtime=spec.mtime,
            base=spec.base,
            standalone=provider.standalone,
        )

    def _code_file(self, rel: str) -> CodeFile:
        path = self.spec.project_dir / rel
        link = path.is_symlink()
        content = str(path.readlink()) if link else self.cache.file_sha256(path)
        return CodeFile(rel, link, content, bool(path.lstat().st_mode & 0o111))

    def plan(self) -> Plan:
        plan = plan_layers(self.plan_inputs())
        self._records = [p.record for p in plan.layers]
        self._os_key = plan.layers[0].key
        self.provider.attach(plan.bottom, plan.rootfs_key, self._records.__getitem__)
        return plan

    def build(self) -> list[LayerRecord]:
        plan = self.plan()
        try:
            for index, p in enumerate(plan.layers):
                if p.kind != "base":
                    self._records[index] = self.cache.get_layer(p.key) if self.reuse else None
            self._build_missing(plan)
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
        return [r for r in self._records if r is not None]

    # scheduling

    def _build_missing(self, plan: Plan) -> None:
        missing = [i for i, r in enumerate(self._records) if r is None]
        self.provider.fetch_all([item for i in missing for item in plan.layers[i].inputs])
        with phase(self.progress, "Building layers", done="built", noun="layers") as progress:
            for index in missing:
                if index < plan.bottom:
                    self._build_one(plan, index, progress)
            parallel = [i for i in missing if i >= plan.bottom and not plan.layers[i].needs_rootfs]
            with ThreadPoolExecutor(max_workers=max(2, len(parallel))) as pool:
                for future in [pool.submit(self._build_one, plan, i, progress) for i in parallel]:
                    future.result()
            for index in missing:
                if self._records[index] is None:
                    self._build_one(plan, index, progress)

    def _build_one(self, plan: Plan, index: int, progress: Progress) -> None:
        p = plan.layers[index]
        task = progress.task(p.description)
        record = self._builder(p.kind)(p, index)
        self._records[index] = record
        self.cache.put_layer(p.key, record)
        task.advance(record.size)  # the compressed size: what the summary line adds up
        task.finish(f"{record.size / 1e6:.1f} MB")

    def _builder(self, kind: str) -> Callable[[LayerPlan, int], LayerRecord]:
        return {
            "os": self._build_os,
            "python-standalone": self._build_standalone,
            "wheels": self._build_wheels,
            "sdist-wheels": self._build_wheels,
            "cog": self._build_wheels,
            "run": self._build_run,
            "weights": self._build_files,
            "code": self._build_files,
        }[kind]

    # builders, one per kind of layer

    def _build_os(self, p: LayerPlan, _index: int) -> LayerRecord:
        debs = self.spec.lock.debian
        paths = self.provider.fetch_all(debs)
        staging = self._scratch / "os-rootfs"
        inputs = [
            layers.DebInput(f"{d.name}_{d.version}_{d.architecture}.deb", path)
            for d, path in zip(debs, paths, strict=True)
        ]
        compiler, rootfs_arch = self.provider.os_compiler()
        record = layers.build_os_layer(
            inputs,
            self.spec.lock.target.python_version,
            self.cache,
            staging=staging,
            compiler=compiler,
            description=p.description,
            rootfs_arch=rootfs_arch,
            mtime=self.spec.mtime,
        )
        self.provider.keep_os_rootfs(p.key, staging)
        return record

    def _build_standalone(self, p: LayerPlan, _index: int) -> LayerRecord:
        build = self.provider.standalone
        assert build is not None
        urls = archive_urls(build, project_dir=self.spec.project_dir)
        archive = fetch(urls, build.sha256, None, self.cache, progress=self.progress)
        staging = self._scratch / "python-standalone"
        record = build_standalone_layer(
            archive,
            self.spec.lock.target.python_version,
            self.cache,
            staging=staging,
            os_rootfs=self.provider.os_only_rootfs(self._os_key),
            arch=self.spec.lock.target.arch,
            description=p.description,
            mtime=self.spec.mtime,
        )
        shutil.rmtree(staging, ignore_errors=True)
        return record

    def _build_wheels(self, p: LayerPlan, _index: int) -> LayerRecord:
        extra: list[tuple[str, Path | bytes]] = []
        if p.kind == "sdist-wheels":
            paths = self.provider.sdists().wheels(reuse=self.reuse)
        else:
            paths = self.provider.fetch_all(p.inputs)
            if p.kind == "cog":
                extra = self._cog_files
        layout = self.provider.python_layout()
        if p.runtime_site:  # apart from the model's packages, scripts off PATH
            site = self.spec.runtime_site.lstrip("/")
            layout = dataclasses.replace(layout, site=site, bin=f"{site}/bin")
        staging = self._scratch / p.key
        record, _ = layers.build_wheels_layer(
            paths,
            self.spec.lock.target.python_version,
            self.cache,
            staging=staging,
            compiler=self.provider.compiler(),
            description=p.description,
            extra_files=[(f"{layout.site}/{rel}", data) for rel, data in extra],
            mtime=self.spec.mtime,
            layout=layout,
        )
        shutil.rmtree(staging, ignore_errors=True)
        return record

    def _build_run(self, p: LayerPlan, index: int) -> LayerRecord:
        assert p.step is not None
        blobs = []
        for record in self._records[:index]:
            assert record is not None
            blob = self.cache.blob_path(record.digest)
            assert blob is not None
            blobs.append(blob)
        workdir = self._scratch / f"run-{index}"
        secrets = self.spec.secrets
        return run_layer(p.step, blobs, workdir, self.cache, secrets, mtime=self.spec.mtime)

    def _build_files(self, p: LayerPlan, _index: int) -> LayerRecord:
        root = self.spec.project_dir
        files = [(dest, root / rel) for dest, rel in p.files]
        name = "code" if p.kind == "code" else p.description
        return layers.build_files_layer(files, self.cache, name, mtime=self.spec.mtime)
