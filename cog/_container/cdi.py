"""GPUs the way podman, containerd and Kubernetes get them: the Container Device Interface.

A CDI spec (``nvidia-ctk cdi generate`` writes one to /etc/cdi/nvidia.yaml) names the
devices of one kind (``nvidia.com/gpu``) and, for each, the edits that make it usable in
a container: device nodes, the host driver's libraries as bind mounts, environment, and
hooks such as ``update-ldcache``. Specs are read from /etc/cdi and /var/run/cdi, or from
the colon-separated ``CDI_SPEC_DIRS``; a device defined in a later directory shadows one
of the same name in an earlier one, as the reference implementation
(container-device-interface/pkg/cdi) does. ``cdi_edits`` applies them to a runc config.

``--gpus`` keeps docker's syntax (``all``, ``N``, ``device=0,1``, ``count=N``); this
module turns it into CDI device names.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cog.errors import RunError

GPU_KIND = "nvidia.com/gpu"
DEFAULT_SPEC_DIRS = ("/etc/cdi", "/var/run/cdi")
SPEC_DIRS_ENV = "CDI_SPEC_DIRS"
SPEC_SUFFIXES = (".json", ".yaml")  # what the reference implementation reads
CREATE_SPEC_HINT = (
    "Create one with the NVIDIA Container Toolkit: install the package "
    "nvidia-container-toolkit (from NVIDIA's apt repository), then run "
    "`nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml`"
)
_KIND = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?/[a-zA-Z0-9]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")
_NAME = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9_.:-]*[a-zA-Z0-9])?$")


@dataclass(frozen=True)
class Spec:
    path: Path
    kind: str
    edits: Mapping[str, Any]  # the spec's containerEdits: applied once with any device
    priority: int  # the index of its directory: later directories win


@dataclass(frozen=True)
class Device:
    name: str  # as the spec names it ("0", "all", "GPU-…")
    spec: Spec
    edits: Mapping[str, Any]

    @property
    def qualified(self) -> str:
        return f"{self.spec.kind}={self.name}"


@dataclass
class Registry:
    """Every device of every readable spec, and what could not be read."""

    dirs: tuple[Path, ...]
    devices: dict[str, Device] = field(default_factory=dict)  # by qualified name
    errors: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> dict[str, Device]:
        return {d.name: d for d in self.devices.values() if d.spec.kind == kind}

    def searched(self) -> str:
        return ", ".join(str(d) for d in self.dirs)


def host_paths(device: Device) -> list[str]:
    """The host's files the device's edits (and its spec's) bind or create from."""
    paths = []
    for edits in (device.spec.edits, device.edits):
        for node in edits.get("deviceNodes") or ():
            paths.append(node.get("hostPath") or node["path"])
        paths += [mount["hostPath"] for mount in edits.get("mounts") or ()]
        paths += [hook["path"] for hook in edits.get("hooks") or ()]
    return paths


def spec_dirs(env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    value = (os.environ if env is None else env).get(SPEC_DIRS_ENV)
    dirs = value.split(":") if value else DEFAULT_SPEC_DIRS
    return tuple(Path(d) for d in dirs if d)


def load_registry(dirs: tuple[Path, ...] | None = None) -> Registry:
    registry = Registry(spec_dirs() if dirs is None else dirs)
    conflicts: dict[str, list[Path]] = {}
    for priority, directory in enumerate(registry.dirs):
        for path in _spec_files(directory):
            try:
                _, devices = read_spec(path, priority)
            except RunError as exc:
                registry.errors.append(exc.message)
                continue
            for device in devices:
                known = registry.devices.get(device.qualified)
                if known is not None and known.spec.priority == priority:
                    conflicts.setdefault(device.qualified, [known.spec.path]).append(path)
                registry.devices[device.qualified] = device
    for name, paths in conflicts.items():
        # The reference refuses a device two specs of the same directory define.
        del registry.devices[name]
        registry.errors.append(f"{name} is defined in both {paths[0]} and {paths[1]}")
    return registry


def _spec_files(directory: Path) -> list[Path]:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    return [p for p in entries if p.suffix in SPEC_SUFFIXES and p.is_file()]


def read_spec(path: Path, priority: int = 0) -> tuple[Spec, list[Device]]:
    """One spec file, JSON or YAML (YAML is a superset of JSON: one parser reads both)."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise RunError(f"{path}: not a readable CDI spec ({exc})") from exc
    if not isinstance(data, dict):
        raise RunError(f"{path}: a CDI spec is a mapping with cdiVersion, kind and devices")
    kind = data.get("kind")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise RunError(f"{path}: kind {kind!r} is not vendor.com/class")
    if not isinstance(data.get("cdiVersion"), str):
        raise RunError(f"{path}: cdiVersion is missing")
    spec = Spec(path, kind, _edits(path, data.get("containerEdits")), priority)
    entries = data.get("devices")
    if not isinstance(entries, list) or not entries:
        raise RunError(f"{path}: a CDI spec lists at least one device")
    devices = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not _NAME.match(name):
            raise RunError(f"{path}: device name {name!r} is not valid")
        devices.append(Device(name, spec, _edits(path, entry.get("containerEdits"))))
    return spec, devices


_HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart")
HOOK_NAMES = (*_HOOKS, "poststop")


def _edits(path: Path, edits: object) -> Mapping[str, Any]:
    if edits is None:
        return {}
    if not isinstance(edits, dict):
        raise RunError(f"{path}: containerEdits is not a mapping")
    for node in edits.get("deviceNodes") or ():
        if not isinstance(node, dict) or not isinstance(node.get("path"), str):
            raise RunError(f"{path}: a deviceNodes entry has no path")
    for mount in edits.get("mounts") or ():
        if not isinstance(mount, dict) or not all(
            isinstance(mount.get(key), str) for key in ("hostPath", "containerPath")
        ):
            raise RunError(f"{path}: a mounts entry needs hostPath and containerPath")
    for hook in edits.get("hooks") or ():
        if not isinstance(hook, dict) or hook.get("hookName") not in HOOK_NAMES:
            name = hook.get("hookName") if isinstance(hook, dict) else hook
            raise RunError(f"{path}: hook name {name!r} is not one of {', '.join(HOOK_NAMES)}")
        if not str(hook.get("path", "")).startswith("/"):
            raise RunError(f"{path}: hook path {hook.get('path')!r} is not absolute")
    for entry in edits.get("env") or ():
        if not isinstance(entry, str) or "=" not in entry:
            raise RunError(f"{path}: env entry {entry!r} is not NAME=VALUE")
    return edits


@dataclass(frozen=True)
class GpuRequest:
    """What ``--gpus`` asked for, in docker's syntax."""

    text: str
    count: int | None = None  # None with no names: every GPU
    names: tuple[str, ...] = ()

    def cdi_names(self) -> list[str]:
        """The CDI names podman gets for this request, without reading any spec."""
        if self.names:
            return [f"{GPU_KIND}={name}" for name in self.names]
        if self.count is None:
            return [f"{GPU_KIND}=all"]
        return [f"{GPU_KIND}={index}" for index in range(self.count)]


def parse_gpus(text: str) -> GpuRequest:
    """``all``, ``N``, ``count=N``, ``device=0,1`` (quoted, as docker's CSV allows)."""
    count: int | None = None
    names: list[str] = []
    last_key = ""
    for item in (f.strip() for f in next(csv.reader([text.strip()]), [])):
        key, sep, value = item.partition("=")
        if not sep and last_key == "device" and _NAME.match(item):
            names.append(item)  # the rest of an unquoted device=0,1
        elif item in ("all", "count=all"):
            count = None
        elif item.isdigit() or (key == "count" and value.isdigit()):
            count = int(value or item)
        elif key == "device" and value:
            names += [n.strip() for n in value.split(",") if n.strip()]
        elif key not in ("capabilities", "driver", "options"):
            # (those three are for docker's toolkit: a CDI spec says what a device gets)
            raise RunError(
                f"--gpus {text}: cannot read {item!r}",
                'Use --gpus all, --gpus 2, or --gpus "device=0,1" (as docker run --gpus).',
            )
        last_key = key if sep else last_key
    if count == 0 and not names:
        raise RunError(f"--gpus {text} asks for no GPU", "Leave --gpus out to run without.")
    return GpuRequest(text, count, tuple(names))


def resolve_gpus(text: str, registry: Registry | None = None) -> list[Device]:
    """The CDI devices ``--gpus text`` means, or a RunError that says how to get them."""
    request = parse_gpus(text)
    registry = load_registry() if registry is None else registry
    available = registry.of_kind(GPU_KIND)
    if not available:
        broken = f" ({'; '.join(registry.errors)})" if registry.errors else ""
        raise RunError(
            f"--gpus {text}: no CDI spec describes devices of kind {GPU_KIND} "
            f"(looked in {registry.searched()}){broken}",
            f"{CREATE_SPEC_HINT}, or set {SPEC_DIRS_ENV} to the directories that hold one.",
        )
    indexed = sorted((n for n in available if n.isdigit()), key=int)
    if request.names:
        wanted = list(request.names)
    elif request.count is None:
        wanted = ["all"] if "all" in available else indexed or sorted(available)
    else:
        wanted = indexed[: request.count]
        if len(wanted) < request.count:
            raise RunError(
                f"--gpus {text}: the CDI specs describe {len(indexed)} {GPU_KIND} devices",
                f"Ask for at most {len(indexed)}, or regenerate the spec ({CREATE_SPEC_HINT}).",
            )
    missing = [name for name in wanted if name not in available]
    if missing:
        specs = sorted({str(d.spec.path) for d in available.values()})
        raise RunError(
            f"--gpus {text}: {GPU_KIND} has no device {', '.join(missing)} "
            f"(it has {', '.join(sorted(available))} in {', '.join(specs)})",
            f"Ask for one of those; if the GPUs changed, regenerate the spec ({CREATE_SPEC_HINT}).",
        )
    return [available[name] for name in dict.fromkeys(wanted)]


def implicit_gpus(engine: str) -> str | None:
    """``gpu: true`` without ``--gpus``: every GPU where the engine can give them, else none.

    As the reference retries without ``--gpus`` where docker has no GPU support, a model
    then runs on the CPU instead of failing.
    """
    if not Path("/dev/nvidiactl").exists():
        return None
    if engine == "docker":  # docker gets GPUs through the toolkit's runtime hook
        return "all"
    return "all" if load_registry().of_kind(GPU_KIND) else None


def resolve_names(names: list[str], registry: Registry | None = None) -> list[Device]:
    """Devices by their qualified CDI names (``vendor.com/class=name``), any kind."""
    registry = load_registry() if registry is None else registry
    missing = [name for name in names if name not in registry.devices]
    if missing:
        raise RunError(
            f"no CDI spec defines {', '.join(missing)} (looked in {registry.searched()})",
            f"{CREATE_SPEC_HINT}, or set {SPEC_DIRS_ENV} to the directories that hold one.",
        )
    return [registry.devices[name] for name in dict.fromkeys(names)]
