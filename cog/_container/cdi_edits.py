"""CDI containerEdits applied to an OCI runtime config, with the specification's semantics.

As container-device-interface/pkg/cdi does: a spec's own edits once (before its first
requested device's), then each device's. ``env`` replaces a variable of the same name or
appends; a device node replaces one at the same path, gets type/major/minor from the host
node when the spec leaves them out, and (block and char devices) a cgroup rule with the
spec's permissions or ``rwm``; a mount replaces one at the same destination, and mounts
are then ordered by depth (stable) so a parent is mounted before what lies beneath it;
hooks are appended to their OCI lifecycle list; additionalGids (0 ignored) join the
process's groups; intelRdt is set.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from cog._container.cdi import CREATE_SPEC_HINT, Device
from cog.errors import RunError


def apply_devices(config: dict[str, Any], devices: Iterable[Device]) -> None:
    seen_specs: set[int] = set()
    edits: list[tuple[Device, Mapping[str, Any]]] = []
    for device in devices:
        if id(device.spec) not in seen_specs:
            seen_specs.add(id(device.spec))
            edits.append((device, device.spec.edits))
        edits.append((device, device.edits))
    for device, edit in edits:
        apply_edits(config, edit, device)


def apply_edits(config: dict[str, Any], edits: Mapping[str, Any], device: Device) -> None:
    process = config.setdefault("process", {})
    if edits.get("env"):
        process["env"] = _merged_env(process.get("env", []), edits["env"])
    linux = config.setdefault("linux", {})
    for node in edits.get("deviceNodes") or ():
        _add_device_node(linux, _filled(node, device), process.get("user", {}))
    if edits.get("mounts"):
        _add_mounts(config, edits["mounts"])
    hooks = config.setdefault("hooks", {})
    for hook in edits.get("hooks") or ():
        entry = {"path": hook["path"]}
        entry |= {key: hook[key] for key in ("args", "env", "timeout") if hook.get(key)}
        hooks.setdefault(hook["hookName"], []).append(entry)
    if not hooks:
        del config["hooks"]
    user = process.setdefault("user", {})
    for gid in edits.get("additionalGids") or edits.get("additionalGIDs") or ():
        groups = user.setdefault("additionalGids", [])
        if gid and gid not in groups:
            groups.append(gid)
    if edits.get("intelRdt"):
        linux["intelRdt"] = dict(edits["intelRdt"])


def _merged_env(current: list[str], added: Iterable[str]) -> list[str]:
    merged = list(current)
    for entry in added:
        name = entry.split("=", 1)[0]
        at = next((i for i, e in enumerate(merged) if e.split("=", 1)[0] == name), None)
        if at is None:
            merged.append(entry)
        else:
            merged[at] = entry
    return merged


_TYPES = {stat.S_IFCHR: "c", stat.S_IFBLK: "b", stat.S_IFIFO: "p"}


def _filled(node: Mapping[str, Any], device: Device) -> dict[str, Any]:
    """The node with type, major and minor from the host's node where the spec has none."""
    filled = dict(node)
    host_path = filled.pop("hostPath", None) or filled["path"]
    kind = filled.get("type")
    if kind and (filled.get("major") or kind == "p"):
        return filled
    try:
        info = os.stat(host_path)
    except OSError as exc:
        raise RunError(
            f"{device.qualified} needs the device node {host_path} ({device.spec.path}), "
            f"which cannot be read: {exc.strerror}",
            f"Is the driver loaded? If the devices changed, regenerate the spec "
            f"({CREATE_SPEC_HINT}).",
        ) from exc
    host_kind = _TYPES.get(stat.S_IFMT(info.st_mode))
    if host_kind is None or (kind and kind != host_kind):
        raise RunError(
            f"{device.qualified}: {host_path} is not a {kind or 'device'} node "
            f"({device.spec.path})",
            f"Regenerate the spec ({CREATE_SPEC_HINT}).",
        )
    filled["type"] = host_kind
    if host_kind != "p" and not filled.get("major") and not filled.get("minor"):
        filled["major"], filled["minor"] = os.major(info.st_rdev), os.minor(info.st_rdev)
    return filled


def _add_device_node(linux: dict[str, Any], node: dict[str, Any], user: Mapping[str, Any]) -> None:
    access = node.pop("permissions", None) or "rwm"
    entry: dict[str, Any] = {
        key: node[key] for key in ("path", "type", "major", "minor") if key in node
    }
    for key in ("fileMode", "uid", "gid"):
        if node.get(key) is not None:
            entry[key] = node[key]
    # A device owned by the container's user when the spec names no owner, as the reference.
    for key in ("uid", "gid"):
        if key not in entry and user.get(key):
            entry[key] = user[key]
    devices = [d for d in linux.get("devices", []) if d.get("path") != entry["path"]]
    linux["devices"] = [*devices, entry]
    if entry["type"] in ("b", "c"):
        rule = {"allow": True, "type": entry["type"], "access": access}
        rule |= {"major": entry.get("major", 0), "minor": entry.get("minor", 0)}
        linux.setdefault("resources", {}).setdefault("devices", []).append(rule)


def _add_mounts(config: dict[str, Any], added: Iterable[Mapping[str, Any]]) -> None:
    mounts = list(config.get("mounts", []))
    for mount in added:
        destination = mount["containerPath"]
        mounts = [m for m in mounts if m.get("destination") != destination]
        entry: dict[str, Any] = {"destination": destination, "source": mount["hostPath"]}
        if mount.get("type"):
            entry["type"] = mount["type"]
        if mount.get("options"):
            entry["options"] = list(mount["options"])
        mounts.append(entry)
    config["mounts"] = sorted(mounts, key=lambda m: _depth(m["destination"]))


def _depth(destination: str) -> int:
    return len(PurePosixPath(os.path.normpath(destination)).parts)
