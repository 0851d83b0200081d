"""This project's own ``cog`` package, as the files a wheel of it would install.

The image runs ``python3 -m cog.runtime``, so the runtime layer carries the cog package
with ``rules/``, ``runtime/`` and ``third_party/`` under their install-time names
(``cog/rules``...), plus a ``.dist-info`` so ``pip freeze`` in the image lists it. The
files are read from wherever ``cog`` is imported from (a checkout or an installation).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

DIST_NAME = "hermetic-cog"
_PACKAGES = {
    "cog": "cog",
    "cog.rules": "cog/rules",
    "cog.runtime": "cog/runtime",
    "cog.third_party": "cog/third_party",
}
# .html/.js/.css: the runtime's /docs page (runtime/_docs_page.py).
_DATA_SUFFIXES = (".py", ".typed", ".json", ".toml", ".txt", ".tmpl", ".html", ".js", ".css")


def _package_dir(module: str) -> Path:
    # find_spec locates a package without running it (cog.runtime would load the server).
    spec = importlib.util.find_spec(module)
    for entry in (spec.submodule_search_locations or []) if spec else []:
        if (Path(entry) / "__init__.py").is_file():
            return Path(entry).resolve()
    raise RuntimeError(f"cannot find the source folder of {module}")


def package_files(source: Path | None = None) -> list[tuple[str, Path]]:
    """(path relative to site-packages, source file), sorted, without caches.

    ``source``: a folder holding ``cog/`` as installed (rules, runtime and third_party
    inside it) to take instead of the running cog, e.g. a pinned copy.
    """
    if source is not None:
        top = source / "cog"
        return sorted(
            (f"cog/{p.relative_to(top).as_posix()}", p)
            for p in top.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.name.endswith(_DATA_SUFFIXES)
        )
    found: dict[str, Path] = {}
    dirs = {install: _package_dir(module) for module, install in _PACKAGES.items()}
    mapped = set(dirs.values())
    for install, top in dirs.items():
        for path in sorted(top.rglob("*")):
            rel_parts = path.relative_to(top).parts
            if "__pycache__" in rel_parts or not path.is_file():
                continue
            # A mapped package met inside another (cog/rules in an installed cog) is
            # collected once, under its own name.
            if any(top / Path(*rel_parts[:i]) in mapped for i in range(1, len(rel_parts))):
                continue
            if path.name.endswith(_DATA_SUFFIXES):
                found[f"{install}/{'/'.join(rel_parts)}"] = path
    return sorted(found.items())


def dist_info(version: str) -> list[tuple[str, bytes]]:
    info = f"{DIST_NAME.replace('-', '_')}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {DIST_NAME}\nVersion: {version}\n".encode()
    return [
        (f"{info}/METADATA", metadata),
        (f"{info}/top_level.txt", b"cog\n"),
        (f"{info}/INSTALLER", b"cog\n"),
        (f"{info}/RECORD", b""),
    ]


def snapshot(dest: Path) -> Path:
    """Copy the running cog package, as installed, into ``dest``; return ``dest``."""
    for rel, path in package_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return dest


def files_digest(files: list[tuple[str, Path]]) -> str:
    h = hashlib.sha256()
    for rel, path in files:
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
