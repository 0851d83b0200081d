"""Image size and cold build time for each python_version, as a markdown table.

    .venv/bin/python scripts/bench_pythons.py [VERSION ...]

For each version: a one-input model is locked into a cache of its own, then built (cold:
every .deb, wheel and interpreter archive fetched, every layer built), timed; the size
is the image's layers as stored (compressed) and unpacked. python-build-standalone
versions use STAND-IN archives (the host's pyenv builds, tests/support/python_standalone.py)
served from a mirror on 127.0.0.1, unless UV_PYTHON_INSTALL_MIRROR is set.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cog.rules.lockfile_text import loads  # noqa: E402
from tests.support.python_standalone import (  # noqa: E402
    EXTRA_LIBS,
    MIRROR_ENV,
    TABLE_ENV,
    make_mirror,
    one_input_project,
    pyenv_build,
    serve_mirror,
    write_table,
)

COG = str(Path(sys.executable).parent / "cog")
DEBIAN = {"3.9", "3.11", "3.13", "3.14"}
VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.11.7"]
MB = 1024 * 1024


def _cog(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [COG, *args], cwd=cwd, env=os.environ | env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"cog {' '.join(args)} failed in {cwd}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _sizes(layout: Path) -> tuple[int, int]:
    """(compressed, unpacked) bytes of the layers of the layout's first manifest."""
    blobs = layout / "blobs" / "sha256"
    index = json.loads((layout / "index.json").read_text())
    manifest = json.loads((blobs / index["manifests"][0]["digest"][7:]).read_bytes())
    compressed = sum(layer["size"] for layer in manifest["layers"])
    unpacked = 0
    for layer in manifest["layers"]:
        blob = blobs / layer["digest"][7:]
        listing = subprocess.run(
            ["tar", "-tvzf", str(blob)], capture_output=True, text=True, check=True
        )
        unpacked += sum(int(line.split()[2]) for line in listing.stdout.splitlines() if line)
    return compressed, unpacked


@contextlib.contextmanager
def _pbs_env(work: Path, versions: list[str]) -> Iterator[tuple[dict[str, str], bool]]:
    if os.environ.get(MIRROR_ENV):
        yield {}, False
        return
    sources = [s for v in versions if v not in DEBIAN and (s := pyenv_build(v)) is not None]
    table = write_table(work / "table.toml", make_mirror(work / "mirror", sources))
    with serve_mirror(work / "mirror") as url:
        yield {TABLE_ENV: str(table), MIRROR_ENV: url}, True


def main(argv: list[str]) -> None:
    versions = argv or VERSIONS
    rows = []
    with tempfile.TemporaryDirectory(prefix="cog-bench-") as tmp:
        work = Path(tmp)
        with _pbs_env(work, versions) as (env, standin):
            for version in versions:
                extra = EXTRA_LIBS if standin and version not in DEBIAN else ()
                project = one_input_project(work / f"py{version}", version, extra)
                # A cache of its own: what `cog lock` leaves there (indexes, the URLs it
                # resolved) is all the build finds; no .deb, wheel or layer is in it yet.
                cold = env | {"COG_CACHE_DIR": str(work / f"cache-{version}"), "NO_COLOR": "1"}
                _cog(["lock"], project, cold)
                lock = loads((project / "cog.lock").read_text(), "cog.lock")
                started = time.monotonic()
                _cog(["build", "-t", f"bench:{version}"], project, cold)
                seconds = time.monotonic() - started
                compressed, unpacked = _sizes(project / ".cog" / "image")
                interp = lock.interpreter
                source = f"{interp.source} {interp.version}" if interp else "?"
                if standin and interp and interp.source != "debian":
                    source += " (stand-in)"
                rows.append((version, source, compressed, unpacked, seconds))
                print(f"{version}: {seconds:.1f} s", file=sys.stderr)
    print("| python_version | interpreter | layers (compressed) | unpacked | cold build |")
    print("|---|---|---|---|---|")
    for version, source, compressed, unpacked, seconds in rows:
        print(
            f"| {version} | {source} | {compressed / MB:.1f} MiB | {unpacked / MB:.1f} MiB "
            f"| {seconds:.0f} s |"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
