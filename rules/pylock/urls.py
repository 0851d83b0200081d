"""Where a locked wheel can be downloaded from, decided at fetch time.

The lock holds no URL. Candidates come from, in order: the URL uv reported when this
machine locked it (remembered in the cache, keyed by sha256), the configured find-links
and indexes (looked up by filename), and finally uv itself, asked to list the files of
``name==version`` from its default index when none is configured.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import tomllib
from pathlib import Path

from cog.rules._files import atomic_write, default_cache_root
from cog.rules.lockfile import Wheel
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.simple import find_in_find_links, find_in_index, url_basename

_HINTS = "wheel-urls"


def remember_urls(urls: dict[str, str], root: Path | None = None) -> None:
    folder = (root or default_cache_root()) / _HINTS
    for sha256, url in urls.items():
        path = folder / sha256
        if not path.is_file() or path.read_text() != url:
            atomic_write(path, url.encode())


def remembered_url(sha256: str, root: Path | None = None) -> str | None:
    path = (root or default_cache_root()) / _HINTS / sha256
    return path.read_text().strip() if path.is_file() else None


def _from_uv(wheel: Wheel, index: IndexConfig) -> str | None:
    from cog.rules.pylock.resolve import index_flags, uv_binary  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="cog-urls-") as tmp:
        work = Path(tmp)
        (work / "r.in").write_text(f"{wheel.name}=={wheel.version}\n")
        argv = [uv_binary(), "pip", "compile", "r.in", "-o", "pylock.toml", "--quiet"]
        argv += ["--no-config", "--universal", "--no-deps", *index_flags(index)]
        env = dict(os.environ) | {"UV_HTTP_TIMEOUT": "15", "UV_HTTP_RETRIES": "1"}
        proc = subprocess.run(
            argv, cwd=work, env=env, capture_output=True, timeout=120, check=False
        )
        if proc.returncode != 0:
            return None
        for package in tomllib.loads((work / "pylock.toml").read_text()).get("packages", []):
            for entry in package.get("wheels", []):
                if url_basename(str(entry["url"])) == wheel.filename:
                    return str(entry["url"])
    return None


def wheel_urls(wheel: Wheel, index: IndexConfig, *, cache: Path | None = None) -> list[str]:
    candidates: list[str] = []
    hint = remembered_url(wheel.sha256, cache)
    if hint is not None:
        candidates.append(hint)
    for location in index.find_links:
        found = find_in_find_links(location, wheel.filename)
        if found is not None:
            candidates.append(found)
    for url in index.indexes():
        found = find_in_index(url, wheel.name, wheel.filename)
        if found is not None:
            candidates.append(found)
    if not candidates and index.index_url is None and not index.no_index:
        found = _from_uv(wheel, index)
        if found is not None:
            candidates.append(found)
    return list(dict.fromkeys(candidates))
