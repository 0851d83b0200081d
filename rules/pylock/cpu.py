"""With gpu: false, prefer CPU builds (``torch==X+cpu``) where a configured index offers them.

PyTorch's default Linux x86_64 wheels are the CUDA build (~3 GB with its nvidia-* wheels);
CPU builds carry a ``+cpu`` local version and live on other indexes or find-links
folders. After a first resolution, each package in ``cpu_variants`` that came out without
``+cpu`` is looked up in the configured indexes and find-links; the highest ``+cpu``
version with a wheel for the target is tried as a constraint, and kept if the whole set
still resolves. Otherwise the first resolution stands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from cog.rules.debian.index_fetch import TransportError, file_url_path
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.simple import links_on_page, normalize, read_page

_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)-(?:\d[^-]*-)?(?P<tags>[^-]+-[^-]+-[^-]+)\.whl$"
)


def _listing(location: str, project: str, *, is_index: bool) -> Iterable[str]:
    if is_index:
        url = f"{location.rstrip('/')}/{normalize(project)}/"
    elif "://" not in location:
        folder = Path(location)
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []
    else:
        url = location
        if url.startswith("file:") and file_url_path(url).is_dir():
            return [p.name for p in file_url_path(url).iterdir()]
    try:
        text, content_type, base = read_page(url)
    except (TransportError, OSError):
        return []
    return links_on_page(text, content_type, base).keys()


def _compatible(tags: str, python_version: str, arch: str) -> bool:
    py, _abi, platform = tags.split("-")
    cp = "cp" + python_version.replace(".", "")
    py_ok = any(p in (cp, "py3") for p in py.split("."))
    return py_ok and (platform == "any" or arch in platform)


def _release(version: str) -> tuple[int, ...]:
    public = version.split("+", 1)[0]
    return tuple(int(x) for x in re.findall(r"\d+", public))


def cpu_versions(project: str, index: IndexConfig, python_version: str, arch: str) -> list[str]:
    """``+cpu`` versions of ``project`` offered for the target, highest first."""
    names: set[str] = set()
    for location in index.find_links:
        names.update(_listing(location, project, is_index=False))
    for location in index.indexes():
        names.update(_listing(location, project, is_index=True))
    versions = set()
    for filename in names:
        m = _WHEEL.match(filename)
        if not m or normalize(m["name"]) != normalize(project):
            continue
        if m["version"].endswith("+cpu") and _compatible(m["tags"], python_version, arch):
            versions.add(m["version"])
    return sorted(versions, key=_release, reverse=True)
