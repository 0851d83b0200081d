"""An image's layers and their keys, from what the build is given: no disk, no host.

Layers, most stable at the bottom: the OS (the debs, with Debian's python3.X in it: it is a
deb like the others and changes when they do; or, when cog.lock pins a python-build-standalone
build, the debs without a Python and that interpreter in a layer of its own; or a base
image's layers), each wheel over 100 MB alone, the other wheels, the wheels built from
sdists, the cog runtime's wheels, the cog package, one layer per ``build.run`` command,
each weights file (with separate weights), and the code.

A layer's key is the digest of its inputs (``layers.layer_key``), so a change reaches only
the layers that hold it and, for ``build.run`` layers (which see everything below), those
above. What must be read from disk or asked of the host (a file's digest, the compiler of
the .pyc, the sdists' build keys) is read by the caller and passed in ``PlanInputs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cog.errors import BuildError

from .base_image import BaseImage
from .cache import LayerRecord
from .image_config import MAX_LAYERS
from .layers import layer_key
from .lockfile import DebPackage, Lock, Wheel
from .python_standalone import StandaloneBuild
from .sandbox import RunStep

BIG_WHEEL = 100 * 1024 * 1024


@dataclass(frozen=True)
class CodeFile:
    """One file of the code layer, as its key sees it."""

    source: str  # project-relative path
    symlink: bool
    content: str  # the file's sha256, or the link's target
    executable: bool


@dataclass(frozen=True)
class PlacedWeights:
    """A weights file in a layer of its own: where it goes, and its digest now."""

    source: str  # project-relative path, as cog.lock pins it
    dest: str  # in-image path without the leading /
    sha256: str  # of the file as it is now


@dataclass(frozen=True)
class CogPackage:
    """The cog package the image carries: its version and the digest of its files."""

    version: str
    files_digest: str


@dataclass(frozen=True)
class PlanInputs:
    lock: Lock
    compiler_id: str  # what compiles the .pyc (``provider.compiler_id``)
    cog: CogPackage
    runtime_site: str  # where the runtime's wheels go in the image
    code: tuple[CodeFile, ...] = ()
    weights: tuple[PlacedWeights, ...] = ()
    run_steps: tuple[RunStep, ...] = ()
    sdist_builds: tuple[str, ...] = ()  # each sdist's build key (``SdistBuilder.keys``)
    mtime: int = 0  # of every layer entry: 0, or SOURCE_DATE_EPOCH
    base: BaseImage | None = None  # build.base_image: its layers replace the OS layer
    standalone: StandaloneBuild | None = None  # the python-build-standalone build pinned


@dataclass(frozen=True)
class LayerPlan:
    key: str
    kind: str  # base, os, python-standalone, wheels, sdist-wheels, cog, run, weights, code
    description: str
    inputs: tuple[DebPackage | Wheel, ...] = ()  # pinned files fetched before any build
    record: LayerRecord | None = None  # a base image's layer: given, never built
    runtime_site: bool = False  # wheels installed apart from the model's packages
    step: RunStep | None = None  # a build.run layer's command
    files: tuple[tuple[str, str], ...] = ()  # (in-image path, project-relative source)

    @property
    def needs_rootfs(self) -> bool:  # runs on everything below it
        return self.kind == "run"


@dataclass(frozen=True)
class Plan:
    layers: tuple[LayerPlan, ...]
    bottom: int  # how many layers make the interpreter's rootfs
    rootfs_key: str  # the key of that rootfs, unpacked


def plan_layers(inputs: PlanInputs) -> Plan:
    """Every layer of the image, bottom first, with its key."""
    bottom = _bottom_layers(inputs)
    planned = [*bottom, *_python_layers(inputs)]
    for step in inputs.run_steps:
        below = [p.key for p in planned]
        key = _key(inputs, "run", command=step.command, mounts=step.mount_ids(), below=below)
        planned.append(LayerPlan(key, "run", f"RUN {step.command}", step=step))
    planned += [_weights_layer(inputs, placed) for placed in inputs.weights]
    planned.append(_code_layer(inputs))
    if len(planned) > MAX_LAYERS:
        raise BuildError(
            f"the image would have {len(planned)} layers; at most {MAX_LAYERS} are allowed",
            "Build without --separate-weights, or put weights files in fewer files.",
        )
    return Plan(tuple(planned), len(bottom), _rootfs_key(inputs, bottom))


def _key(inputs: PlanInputs, kind: str, **values: object) -> str:
    return layer_key(kind, mtime=inputs.mtime, **values)


def _rootfs_key(inputs: PlanInputs, bottom: Sequence[LayerPlan]) -> str:
    if inputs.base is not None:
        return inputs.base.rootfs_key()
    if len(bottom) == 1:
        return bottom[0].key
    return layer_key("rootfs", below=[p.key for p in bottom])


def _bottom_layers(inputs: PlanInputs) -> list[LayerPlan]:
    if inputs.base is not None:
        return [
            LayerPlan(record.digest, "base", record.description, record=record)
            for record in inputs.base.layers
        ]
    lock, python = inputs.lock, inputs.lock.target.python_version
    debs = tuple(lock.debian)
    compiler = "rootfs" if inputs.compiler_id.startswith("rootfs") else inputs.compiler_id
    key = _key(inputs, "os", debs=[d.sha256 for d in debs], python=python, compiler=compiler)
    if inputs.standalone is None:
        return [LayerPlan(key, "os", f"debian packages ({len(debs)}) with python{python}", debs)]
    build = inputs.standalone
    # The .pyc are compiled by the interpreter itself, whatever the OS layer holds.
    standalone_key = _key(inputs, "python-standalone", sha256=build.sha256, python=python)
    description = f"python {build.version} (python-build-standalone {build.release})"
    return [
        LayerPlan(key, "os", f"debian packages ({len(debs)})", debs),
        LayerPlan(standalone_key, "python-standalone", description),
    ]


def _wheels_key(
    inputs: PlanInputs, wheels: Sequence[Wheel], extra: str = "", *, runtime_site: bool = False
) -> str:
    where = {"site": inputs.runtime_site} if runtime_site else {}
    return _key(
        inputs,
        "wheels",
        wheels=[w.sha256 for w in wheels],
        extra=extra,
        python=inputs.lock.target.python_version,
        compiler=inputs.compiler_id,
        **where,
    )


def _python_layers(inputs: PlanInputs) -> list[LayerPlan]:
    """The model's wheels, those built from its sdists, the runtime's wheels, cog itself."""
    lock = inputs.lock
    big = sorted((w for w in lock.python if w.size > BIG_WHEEL), key=lambda w: w.name)
    small = sorted((w for w in lock.python if w.size <= BIG_WHEEL), key=lambda w: w.name)
    groups: list[tuple[tuple[Wheel, ...], str]] = [((w,), f"wheel {w.filename}") for w in big]
    if small:
        groups.append((tuple(small), f"python packages ({len(small)})"))
    planned = [
        LayerPlan(_wheels_key(inputs, wheels), "wheels", description, wheels)
        for wheels, description in groups
    ]
    if lock.sdist:
        digest = layer_key("sdist-wheels", builds=list(inputs.sdist_builds))
        description = f"python packages built from sdists ({len(lock.sdist)})"
        planned.append(LayerPlan(_wheels_key(inputs, (), digest), "sdist-wheels", description))
    if wheels := tuple(sorted(lock.runtime, key=lambda w: w.name)):
        key = _wheels_key(inputs, wheels, runtime_site=True)
        description = f"cog runtime dependencies ({len(wheels)} wheels)"
        planned.append(LayerPlan(key, "wheels", description, wheels, runtime_site=True))
    cog = inputs.cog
    digest = layer_key("cog", files=cog.files_digest, version=cog.version)
    planned.append(LayerPlan(_wheels_key(inputs, (), digest), "cog", f"cog {cog.version}"))
    return planned


def _weights_layer(inputs: PlanInputs, placed: PlacedWeights) -> LayerPlan:
    pinned = {w.path: w for w in inputs.lock.weights}
    rel = placed.source
    if rel not in pinned:
        raise BuildError(f"weights file {rel} is not in cog.lock", "Run `cog lock`.")
    entry = pinned[rel]
    if placed.sha256 != entry.sha256:
        raise BuildError(
            f"weights file {rel} changed since cog.lock was written",
            "Run `cog lock` to pin the new file.",
        )
    key = _key(inputs, "weights", path=placed.dest, sha256=entry.sha256)
    return LayerPlan(key, "weights", f"weights {rel}", files=((placed.dest, rel),))


def _code_layer(inputs: PlanInputs) -> LayerPlan:
    listing = [(f"src/{f.source}", f.symlink, f.content, f.executable) for f in inputs.code]
    key = _key(inputs, "code", files=listing)
    files = tuple((f"src/{f.source}", f.source) for f in inputs.code)
    return LayerPlan(key, "code", f"code ({len(files)} files)", files=files)
