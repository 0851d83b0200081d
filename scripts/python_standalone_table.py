"""Write third_party/python_standalone.toml from uv's own download metadata.

uv compiles python-build-standalone's download metadata (crates/uv-python/
download-metadata.json: release, file and sha256 of every build it can install) into its
binary as one zstd frame. This script reads that frame out of the uv that cog runs (or a
download-metadata.json given with --metadata) and keeps the Linux glibc builds of CPython
3.8 to 3.14 for x86_64 and aarch64: the default (not freethreaded, not debug) flavour,
no pre-releases. Nothing is downloaded.

    .venv/bin/python scripts/python_standalone_table.py [--metadata FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from cog.rules.host_tools import find_uv

OUT = Path(__file__).resolve().parents[1] / "third_party" / "python_standalone.toml"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ARCHES = {"x86_64": "amd64", "aarch64": "arm64"}
_MINORS = range(8, 15)


def _embedded_metadata(binary: Path) -> dict[str, Any]:
    data = binary.read_bytes()
    for match in re.finditer(re.escape(_ZSTD_MAGIC), data):
        proc = subprocess.run(
            ["zstd", "-dc"], input=data[match.start() :], capture_output=True, check=False
        )
        if proc.stdout.startswith(b'{"cpython-'):
            parsed: dict[str, Any] = json.loads(proc.stdout)
            return parsed
    raise SystemExit(f"no embedded download metadata found in {binary}")


def _wanted(entry: dict[str, Any]) -> bool:
    arch = entry["arch"]
    family = arch["family"] if isinstance(arch, dict) else arch
    return (
        entry["name"] == "cpython"
        and entry["os"] == "linux"
        and entry["libc"] == "gnu"
        and not entry.get("variant")
        and not entry["prerelease"]
        and family in _ARCHES
        and not (isinstance(arch, dict) and arch.get("variant"))
        and entry["major"] == 3
        and entry["minor"] in _MINORS
    )


def _rows(metadata: dict[str, Any]) -> list[tuple[tuple[int, int, str], str]]:
    rows = []
    for entry in metadata.values():
        if not _wanted(entry):
            continue
        arch = entry["arch"]
        family = arch["family"] if isinstance(arch, dict) else arch
        release, quoted = urllib.parse.urlsplit(entry["url"]).path.split("/")[-2:]
        if "-install_only" not in quoted:
            continue  # the early full distributions have another layout (python/install/)
        version = f"3.{entry['minor']}.{entry['patch']}"
        line = (
            f'  {{ version = "{version}", arch = "{_ARCHES[family]}", release = "{release}", '
            f'file = "{urllib.parse.unquote(quoted)}", sha256 = "{entry["sha256"]}" }},'
        )
        rows.append(((entry["minor"], entry["patch"], _ARCHES[family]), line))
    return sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--metadata", type=Path, help="a download-metadata.json to read")
    args = parser.parse_args()
    uv = Path(os.path.realpath(find_uv().path))
    if args.metadata:
        metadata, origin = json.loads(args.metadata.read_text()), args.metadata.name
    else:
        version = subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True)
        metadata, origin = _embedded_metadata(uv), version.stdout.strip()
    rows = _rows(metadata)
    header = f"""\
# python-build-standalone CPython builds that cog may put into an image, pinned by release,
# file name and sha256. Read by cog.rules.python_standalone; written by
# scripts/python_standalone_table.py from the download metadata compiled into {origin}
# (uv's crates/uv-python/download-metadata.json). Linux glibc builds, default flavour,
# install_only archives only.
#
# Used for every python_version no Debian suite carries (3.8, 3.10, 3.12) and for an exact
# patch version the suite does not ship. The archive's root is python/ (bin, lib, include,
# share); it goes to /usr/local on the Debian base below. Fetched from
# UV_PYTHON_INSTALL_MIRROR or python-install-mirror in uv.toml as MIRROR/<release>/<file>,
# else from the release location uv itself reports.

format = 1
base_suite = "bookworm"

builds = [
"""
    OUT.write_text(header + "\n".join(line for _, line in rows) + "\n]\n")
    print(f"wrote {len(rows)} builds to {OUT}")


if __name__ == "__main__":
    main()
