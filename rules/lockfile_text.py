"""cog.lock's text form: TOML written by our own serialiser, so the bytes are stable.

The ``[target]`` and ``[interpreter]`` tables, then one ``[[debian]]``/``[[python]]``/
``[[runtime]]``/``[[weights]]`` (and, for packages built from source, ``[[sdist]]``/
``[[build_python]]``/``[[build_debian]]``) block per entry, sorted, one field per line: changing one
package changes a few lines, and dumping the same lock
twice gives the same bytes. ``loads`` parses with tomllib and validates with the pydantic
model (``cog.rules.lockfile``), naming the file in every error.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

from pydantic import ValidationError

from cog.errors import LockError
from cog.rules.lockfile import LOCK_VERSION, Lock

HEADER = "# cog.lock: every input of the image, pinned by content. Written by `cog lock`.\n"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SORT_KEYS: dict[str, tuple[str, ...]] = {
    "debian": ("name", "version", "architecture"),
    "python": ("name", "version", "filename"),
    "runtime": ("name", "version", "filename"),
    "weights": ("path",),
    "sdist": ("name", "version", "filename"),
    "build_python": ("name", "version", "filename"),
    "build_debian": ("name", "version", "architecture"),
}
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _string(value: str) -> str:
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} into cog.lock")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _fields(table: dict[str, Any]) -> list[str]:
    return [f"{_key(k)} = {_scalar(v)}" for k, v in table.items() if v is not None]


def _sort_key(section: str, entry: dict[str, Any]) -> tuple[str, ...]:
    keys = _SORT_KEYS.get(section, tuple(sorted(entry)))
    return tuple(str(entry.get(k, "")) for k in keys)


def dumps(lock: Lock) -> str:
    data = lock.model_dump(mode="json")
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict | list)}
    lines = [HEADER.rstrip("\n"), *_fields(scalars)]
    for name, value in data.items():
        if isinstance(value, dict):
            lines += ["", f"[{_key(name)}]", *_fields(value)]
    for name, value in data.items():
        if not isinstance(value, list):
            continue
        for entry in sorted(value, key=lambda e: _sort_key(name, e)):
            lines += ["", f"[[{_key(name)}]]", *_fields(entry)]
    return "\n".join(lines) + "\n"


def _check_hashes(data: dict[str, Any], origin: str) -> None:
    for section in _SORT_KEYS:
        entries = data.get(section, [])
        if not isinstance(entries, list):
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            digest = entry.get("sha256")
            if not isinstance(digest, str) or not _SHA256.match(digest):
                label = entry.get("name") or entry.get("path") or f"entry {i + 1}"
                raise LockError(
                    f"{origin}: [[{section}]] {label} has a malformed sha256 {digest!r} "
                    "(64 lowercase hex digits expected)",
                    hint="Do not edit cog.lock by hand; run `cog lock` to regenerate it.",
                )


def loads(text: str, origin: str) -> Lock:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LockError(
            f"{origin} is not valid cog.lock text: {e}",
            hint="Run `cog lock` to regenerate it.",
        ) from e
    version = data.get("version")
    if isinstance(version, int) and version > LOCK_VERSION:
        raise LockError(
            f"{origin} has lock format {version}; this cog reads format {LOCK_VERSION}",
            hint="Upgrade cog, or run `cog lock` to rewrite it in this format.",
        )
    _check_hashes(data, origin)
    try:
        return Lock.model_validate(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LockError(
            f"{origin} is not a valid cog.lock: {where}: {first['msg']}",
            hint="Run `cog lock` to regenerate it.",
        ) from e
