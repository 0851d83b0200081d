"""``cog build``: an OCI image from cog.lock and the project's files, with no daemon.

The lock pins every input; layers are reused from the cache by the digest of their
inputs; the image layout under ``<project>/.cog/image`` is updated so that a reader never
sees a half-written image (blobs first, index.json last, by rename).
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cog._paths import RUNTIME_SITE
from cog._version import __version__
from cog.config import load_config
from cog.config.spec import Config
from cog.errors import BuildError
from cog.progress import Progress
from cog.rules._files import atomic_write
from cog.rules.assemble import Assembler, Assembly, Locator
from cog.rules.base_image import BaseImage, pull_base
from cog.rules.cache import Cache, LayerRecord
from cog.rules.dockerignore import project_files
from cog.rules.image_config import ImageSettings, timestamp, write_image
from cog.rules.lockfile import DebPackage, Lock, Wheel
from cog.rules.oci import OciLayout
from cog.rules.sandbox import RunStep
from cog.rules.sbom import image_sbom

LAYOUT_DIR = Path(".cog") / "image"


@dataclass(frozen=True)
class BuildResult:
    layout: Path
    manifest_digest: str
    tag: str
    image_size: int
    sbom: Path  # SPDX 2.3 JSON of everything in the image, from cog.lock
    lock: Path  # the cog.lock the image was built from


def build_project(
    project_dir: Path,
    *,
    config_file: str = "cog.yaml",
    tag: str | None,
    separate_weights: bool,
    no_cache: bool,
    progress: Progress,
    secrets: Mapping[str, Path] | None = None,
    locate: Locator | None = None,
    cache: Cache | None = None,
    cog_source: Path | None = None,
    config: Config | None = None,
) -> BuildResult:
    """Build the project's image into ``<project>/.cog/image`` and tag it.

    With ``build.base_image``, that image (pulled into the cache) replaces the Debian
    layer at the bottom; the layers above are the same.

    ``secrets`` maps a ``build.run`` mount id to the file bound in for that command.
    ``locate`` (where each pinned file is fetched from) defaults to the user's apt and
    pip/uv configuration; ``cache`` to the user's cache directory. ``cog_source`` is a
    folder holding the ``cog`` package as installed, to put in the image instead of the
    running one (``cog.rules.self_package.snapshot`` makes one). ``config`` is the
    project's cog.yaml when the caller has read it already (it is read once per command).
    """
    project_dir = project_dir.resolve()
    if config is None:
        config = load_config(project_dir / config_file)
    # Imported here: the lock's modules load the Debian and PyPI resolvers, which a
    # build does not otherwise need.
    from cog.locking import check_lock, lock_path  # noqa: PLC0415

    lock = check_lock(project_dir, config_file, config=config)
    cache = cache or Cache()
    cache.sweep_stale_temps()
    epoch = _epoch()
    base = None
    if config.build.base_image:
        base = pull_base(config.build.base_image, cache, lock.target.arch, progress)
    assembly = _assembly(
        project_dir,
        config,
        lock,
        separate_weights=separate_weights,
        secrets=dict(secrets or {}),
        mtime=epoch,
        base=base,
        cog_source=cog_source,
        progress=progress,
    )
    records = Assembler(
        assembly, cache, locate or _default_locator(project_dir), progress, reuse=not no_cache
    ).build()
    name = tag or config.image or default_tag(project_dir)
    image = _ImageInputs(config, lock, records, epoch, base.env if base else ())
    layout, digest, size, sbom = _write(project_dir, image, name, cache, progress)
    return BuildResult(
        layout=layout.path,
        manifest_digest=digest,
        tag=name,
        image_size=size,
        sbom=sbom,
        lock=lock_path(project_dir, config_file),
    )


def _assembly(
    project_dir: Path,
    config: Config,
    lock: Lock,
    *,
    separate_weights: bool,
    secrets: dict[str, Path],
    mtime: int,
    base: BaseImage | None,
    cog_source: Path | None,
    progress: Progress,
) -> Assembly:
    """What the layers are built from: the lock, the code's files, the weights placed,
    the ``build.run`` steps (checked before any layer is built)."""
    weights = _weights_paths(lock, config) if separate_weights else ()
    steps = tuple(
        RunStep(r.command, tuple((m.id, m.target) for m in r.mounts)) for r in config.build.run
    )
    for step in steps:
        step.parsed()  # a bad --mount prefix is an error before any layer is built
    code = tuple(project_files(project_dir, skip=frozenset(rel for rel, _ in weights)))
    _note_runtime_imports(project_dir, code, lock, progress)
    return Assembly(
        lock=lock,
        project_dir=project_dir,
        code_files=code,
        runtime_site=RUNTIME_SITE,
        weights=weights,
        run_steps=steps,
        cog_version=__version__,
        secrets=secrets,
        mtime=mtime,
        base=base,
        cog_source=cog_source,
    )


@dataclass(frozen=True)
class _ImageInputs:
    config: Config
    lock: Lock
    records: list[LayerRecord]
    epoch: int
    base_env: tuple[str, ...]


def _write(
    project_dir: Path, image: _ImageInputs, name: str, cache: Cache, progress: Progress
) -> tuple[OciLayout, str, int, Path]:
    """The image's config and manifest over its layers, tagged ``name``, and its SBOM."""
    schema = _static_schema(image.config, project_dir)  # None: only the image can tell
    settings = ImageSettings(
        arch=image.lock.target.arch,
        gpu=image.lock.target.gpu,
        environment=image.config.environment,
        labels=_labels(image.config, image.lock, image.epoch, schema),
        created=image.epoch,
        base_env=image.base_env,
    )
    layout = OciLayout(project_dir / LAYOUT_DIR)
    with _locked(project_dir / ".cog"):
        digest, size = write_image(layout, cache, settings, image.records)
        if schema is None:
            # Read inside the image just written, then written again with the label.
            schema = _image_schema(layout.path, digest, image.config, project_dir, progress)
            labels = _labels(image.config, image.lock, image.epoch, schema)
            settings = dataclasses.replace(settings, labels=labels)
            digest, size = write_image(layout, cache, settings, image.records)
        layout.tag(name, digest, {"architecture": image.lock.target.arch, "os": "linux"})
        layout.collect_garbage()
        sbom = project_dir / ".cog" / "sbom.spdx.json"
        sbom_bytes = image_sbom(image.lock, image_name=name, manifest_digest=digest, cache=cache)
        atomic_write(sbom, sbom_bytes)
    return layout, digest, size, sbom


def default_tag(project_dir: Path) -> str:
    """``cog-<directory>``, as the reference names an untagged build."""
    name = re.sub(r"[^a-z0-9._-]+", "-", project_dir.name.lower()).strip("-._")
    return f"cog-{name or 'model'}"


def _epoch() -> int:
    value = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return int(value)
    except ValueError as e:
        raise BuildError(
            f"SOURCE_DATE_EPOCH={value!r} is not a number of seconds",
            "Unset it or set it to an integer.",
        ) from e


def _weights_paths(lock: Lock, config: Config) -> tuple[tuple[str, str], ...]:
    """Each pinned weights file and where it goes: under its source's ``target`` when
    cog.yaml gives one, else at its place under /src."""
    if not lock.weights:
        raise BuildError(
            f"--separate-weights: cog.lock pins no weights files ({config.path} has no weights)",
            "Add the weights paths under `weights:` in cog.yaml and run `cog lock`.",
        )
    placed = []
    for pinned in sorted(lock.weights, key=lambda w: w.path):
        dest = f"src/{pinned.path}"
        for source in config.weights:
            root = source.path.strip("/")
            if source.target and (pinned.path == root or pinned.path.startswith(root + "/")):
                dest = source.target.strip("/") + pinned.path[len(root) :]
        placed.append((pinned.path, dest))
    return tuple(placed)


def _default_locator(project_dir: Path) -> Locator:
    from cog.rules import sources  # noqa: PLC0415  (reads apt/pip configuration modules)

    index = sources.python_index_config(project_dir)

    def locate(item: DebPackage | Wheel) -> list[str]:
        if isinstance(item, DebPackage):
            return sources.deb_urls(item)
        return sources.wheel_urls(item, index)

    return locate


def _note_runtime_imports(
    project_dir: Path, code: tuple[str, ...], lock: Lock, progress: Progress
) -> None:
    from cog._runtime_imports import undeclared_runtime_imports  # noqa: PLC0415

    declared = (w.name for w in (*lock.python, *lock.sdist))
    found = undeclared_runtime_imports(project_dir, code, declared)
    for rel, name, dist in found:
        progress.info(
            f"{rel} imports {name}, which cog.yaml does not list: Cog 0.16 and older "
            f"installed {dist} with itself, but the runtime's copy is not on the model's "
            f"path here. Add {dist} to build.python_packages (or requirements.txt) and run "
            "`cog lock`."
        )


def _static_schema(config: Config, project_dir: Path) -> dict[str, object] | None:
    from cog._signature.project_schema import SchemaNeedsBuildError, project_schema  # noqa: PLC0415

    try:
        return project_schema(project_dir, config.predict, config.train).document
    except SchemaNeedsBuildError:
        return None


def _image_schema(
    layout: Path, digest: str, config: Config, project_dir: Path, progress: Progress
) -> dict[str, object]:
    """The schema read by importing the model inside the image, as the reference does."""
    from cog._container.image import load_image  # noqa: PLC0415  (runc and the unpacker)
    from cog._container.image_signature import image_importer  # noqa: PLC0415
    from cog._signature.project_schema import project_schema  # noqa: PLC0415

    importer = image_importer(load_image(layout, digest), progress)
    result = project_schema(project_dir, config.predict, config.train, import_model=importer)
    return result.document


def _labels(
    config: Config, lock: Lock, epoch: int, schema: dict[str, object] | None
) -> dict[str, str]:
    freeze = sorted(
        {f"{w.name}=={w.version}" for w in (*lock.python, *lock.sdist, *lock.runtime)}
        | {f"hermetic-cog=={__version__}"},
        key=str.lower,
    )
    labels = {
        "run.cog.version": __version__,
        "run.cog.config": json.dumps(config.reference_json(), separators=(",", ":")),
        "run.cog.openapi_schema": json.dumps(schema, separators=(",", ":")),
        "run.cog.pip_freeze": "\n".join(freeze),
        "org.opencontainers.image.created": timestamp(epoch),
    }
    if schema is None:  # the image that is introspected for it, then written again
        del labels["run.cog.openapi_schema"]
    return labels


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    # Two builds of one project must not interleave their index updates and blob sweeps.
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "image.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
