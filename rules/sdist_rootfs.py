"""A root filesystem made of Debian packages, unpacked once and kept in cog's cache, for
the sandboxes that run an sdist's code: its wheel build, and uv reading its metadata."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .cache import Cache
from .deb import DebFile
from .layers import extract_layer, layer_key
from .lockfile import DebPackage
from .rootfs_fixups import apply_fixups
from .tree import Tree

Fetch = Callable[[Sequence[DebPackage]], list[Path]]


def debian_rootfs(
    debs: Sequence[DebPackage],
    python_version: str,
    cache: Cache,
    fetch: Fetch,
    *,
    mount_points: Sequence[str] = (),
    interpreter: tuple[str, Callable[[], Path | None]] = ("debian", lambda: None),
) -> Path:
    """The debs unpacked with the image's fix-ups (and ``interpreter``'s layer on top, for
    a python-build-standalone one), with empty ``mount_points`` for a read-only bind."""
    ordered = sorted(debs, key=lambda d: d.name)
    identity, interpreter_layer = interpreter
    key = layer_key(
        "sdist-rootfs",
        debs=[d.sha256 for d in ordered],
        interpreter=identity,
        mounts=list(mount_points),
    )
    cached = cache.rootfs(key)
    if cached is not None:
        return cached
    paths = fetch(ordered)
    staged = cache.temp_dir("sdist-rootfs")
    tree = Tree(staged)
    controls = []
    for deb, path in zip(ordered, paths, strict=True):
        package = DebFile(path, origin=f"{deb.name}_{deb.version}")
        controls.append(package.control())
        package.unpack_into(tree)
    apply_fixups(tree, controls, python_version)
    for name, target in (("cc", "gcc"), ("c++", "g++")):
        # What gcc's postinst would make with update-alternatives.
        if f"usr/bin/{name}" not in tree and f"usr/bin/{target}" in tree:
            tree.add_symlink(f"usr/bin/{name}", target)
    for mount in mount_points:
        tree.add_dir(mount)
    if (layer := interpreter_layer()) is not None:
        extract_layer(layer, staged)
    return cache.put_rootfs(key, staged)
