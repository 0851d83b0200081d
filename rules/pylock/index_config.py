"""Where Python packages come from: pip's and uv's configuration, merged.

uv reads uv.toml and UV_*, but not pip.conf or PIP_*; most users configure pip. Both are
read here and handed to uv as explicit flags, so a private index or a local wheel folder
set for either tool works for ``cog lock``.
"""

from __future__ import annotations

import configparser
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class IndexConfig:
    index_url: str | None = None  # None: the resolver's own default index
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()  # constraint files (pip's `constraint`)
    no_index: bool = False
    # pip looks for the best version across all its indexes; uv by default stops at the
    # first index that has the package. Extra indexes set for pip get pip's behaviour.
    index_strategy: str | None = None
    # url or path -> the setting it came from, to name in error messages
    origins: tuple[tuple[str, str], ...] = field(default=())

    def origin_of(self, value: str) -> str:
        return dict(self.origins).get(value, "the index configuration")

    def indexes(self) -> tuple[str, ...]:
        first = () if self.index_url is None else (self.index_url,)
        return first + self.extra_index_urls


@dataclass
class _Found:
    index_url: tuple[str, str] | None = None  # (value, origin)
    extra: list[tuple[str, str]] = field(default_factory=list)
    find_links: list[tuple[str, str]] = field(default_factory=list)
    constraints: list[tuple[str, str]] = field(default_factory=list)
    no_index: bool = False
    index_strategy: str | None = None


def _words(value: str, *, commas: bool = False) -> list[str]:
    if commas:
        value = value.replace(",", " ")
    return value.split()


def _pip_files(env: Mapping[str, str], home: Path) -> list[Path]:
    config_file = env.get("PIP_CONFIG_FILE")
    if config_file == os.devnull:
        return []
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = [Path(d) / "pip" / "pip.conf" for d in xdg_dirs if d]
    files.append(Path("/etc/pip.conf"))
    files.append(home / ".pip" / "pip.conf")
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    files.append(config_home / "pip" / "pip.conf")
    if config_file:
        files.append(Path(config_file))
    return files


def _read_pip(env: Mapping[str, str], home: Path) -> _Found:
    found = _Found()
    for path in _pip_files(env, home):
        if not path.is_file():
            continue
        parser = configparser.RawConfigParser()
        parser.read(path)
        for section in ("global", "install"):
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                _apply_pip(found, key.replace("_", "-"), value, f"{key} in {path}")
    for key in ("INDEX_URL", "EXTRA_INDEX_URL", "FIND_LINKS", "CONSTRAINT", "NO_INDEX"):
        setting = env.get(f"PIP_{key}")
        if setting is not None:
            _apply_pip(found, key.lower().replace("_", "-"), setting, f"PIP_{key}")
    return found


def _apply_pip(found: _Found, key: str, value: str, origin: str) -> None:
    # A later file or the environment replaces a key's value, as pip does.
    if key == "index-url":
        found.index_url = (value.strip(), origin)
    elif key == "extra-index-url":
        found.extra = [(v, origin) for v in _words(value)]
    elif key == "find-links":
        found.find_links = [(v, origin) for v in _words(value)]
    elif key == "constraint":
        found.constraints = [(v, origin) for v in _words(value)]
    elif key == "no-index":
        found.no_index = value.strip().lower() in ("1", "true", "yes", "on")


def _uv_files(env: Mapping[str, str], home: Path, project_dir: Path | None) -> list[Path]:
    if env.get("UV_NO_CONFIG"):
        return []
    if env.get("UV_CONFIG_FILE"):
        return [Path(env["UV_CONFIG_FILE"])]
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(":")
    files = [Path(d) / "uv" / "uv.toml" for d in xdg_dirs if d]
    files.append(Path("/etc/uv/uv.toml"))
    config_home = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    files.append(config_home / "uv" / "uv.toml")
    if project_dir is not None:
        files.append(project_dir / "uv.toml")
    return files


def _apply_uv_table(found: _Found, table: Mapping[str, Any], origin: str) -> None:
    if "index-url" in table:
        found.index_url = (str(table["index-url"]), f"index-url in {origin}")
    if "extra-index-url" in table:
        found.extra = [(str(v), f"extra-index-url in {origin}") for v in table["extra-index-url"]]
    if "find-links" in table:
        found.find_links = [(str(v), f"find-links in {origin}") for v in table["find-links"]]
    if "constraint-dependencies" in table:
        pass  # requirement strings, not files: not supported here
    if table.get("no-index"):
        found.no_index = True
    if "index-strategy" in table:
        found.index_strategy = str(table["index-strategy"])
    for index in table.get("index", []):
        url = str(index["url"])
        if index.get("explicit"):
            continue  # only used by packages pinned to it in tool.uv.sources
        if index.get("default"):
            found.index_url = (url, f"[[index]] in {origin}")
        else:
            found.extra.append((url, f"[[index]] in {origin}"))


def _read_uv(env: Mapping[str, str], home: Path, project_dir: Path | None) -> _Found:
    found = _Found()
    for path in _uv_files(env, home, project_dir):
        if not path.is_file():
            continue
        table = tomllib.loads(path.read_text())
        _apply_uv_table(found, table, str(path))
        if isinstance(table.get("pip"), dict):
            _apply_uv_table(found, table["pip"], f"[pip] of {path}")
    for key in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if env.get(key):
            found.index_url = (env[key].strip(), key)
    if env.get("UV_INDEX"):
        # UV_INDEX entries may be named: "name=url".
        found.extra = [(w.split("=", 1)[-1], "UV_INDEX") for w in _words(env["UV_INDEX"])]
    if env.get("UV_EXTRA_INDEX_URL"):
        found.extra += [(w, "UV_EXTRA_INDEX_URL") for w in _words(env["UV_EXTRA_INDEX_URL"])]
    if env.get("UV_FIND_LINKS"):
        found.find_links = [(w, "UV_FIND_LINKS") for w in _words(env["UV_FIND_LINKS"], commas=True)]
    if env.get("UV_CONSTRAINT"):
        found.constraints = [(w, "UV_CONSTRAINT") for w in _words(env["UV_CONSTRAINT"])]
    if env.get("UV_NO_INDEX"):
        found.no_index = True
    if env.get("UV_INDEX_STRATEGY"):
        found.index_strategy = env["UV_INDEX_STRATEGY"]
    return found


def _dedup(*lists: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for items in lists:
        for value, origin in items:
            seen.setdefault(value, origin)
    return list(seen.items())


def read_index_config(
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    project_dir: Path | None = None,
) -> IndexConfig:
    """uv's settings take precedence over pip's where both set the default index."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    pip = _read_pip(env, home)
    uv = _read_uv(env, home, project_dir)
    index = uv.index_url or pip.index_url
    extra = _dedup(uv.extra, pip.extra)
    find_links = _dedup(uv.find_links, pip.find_links)
    constraints = _dedup(uv.constraints, pip.constraints)
    origins = dict(extra + find_links + constraints)
    if index is not None:
        origins.setdefault(index[0], index[1])
    return IndexConfig(
        index_url=None if index is None else index[0],
        extra_index_urls=tuple(v for v, _ in extra),
        find_links=tuple(v for v, _ in find_links),
        constraints=tuple(v for v, _ in constraints),
        no_index=pip.no_index or uv.no_index,
        index_strategy=uv.index_strategy or ("unsafe-best-match" if pip.extra else None),
        origins=tuple(sorted(origins.items())),
    )
