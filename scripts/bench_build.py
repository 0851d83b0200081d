#!/usr/bin/env python3
"""Benchmark `cog build` against the raw cost of the same bytes, measured in the same run.

Usage: .venv/bin/python scripts/bench_build.py [PROJECT] [--runs N]
(default PROJECT: examples/hello; it is copied, prepared and locked first, untimed).

Prints: cold build (empty cache) next to download + sha256 + tar + gzip of the same
bytes; no-op rebuild; code-only rebuild; and gzip of the layers serially versus in
parallel threads (the build compresses missing layers in parallel).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from cog.building import _default_locator, build_project
from cog.locking import check_lock, lock_project
from cog.progress import NullProgress
from cog.rules.cache import Cache
from cog.rules.layers import extract_layer
from cog.rules.lockfile import DebPackage, Wheel
from cog.rules.oci import OciLayout

REPO = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def prepare(src: Path, work: Path) -> Path:
    project = work / src.name
    shutil.copytree(src, project, ignore=shutil.ignore_patterns(".cog", "cog.lock"))
    if (project / "prepare.sh").exists():
        subprocess.run(["sh", "prepare.sh"], cwd=project, check=True)
    lock_project(project, progress=NullProgress())
    return project


def build(project: Path, cache: Path) -> str:
    result = build_project(
        project,
        tag="bench",
        separate_weights=False,
        no_cache=False,
        progress=NullProgress(),
        cache=Cache(cache),
    )
    return result.manifest_digest


def raw_costs(project: Path, work: Path, layer_blobs: list[Path]) -> dict[str, float]:
    """Download and hash every pinned file, then tar and gzip the image's contents."""
    lock = check_lock(project)
    locate = _default_locator(project)
    downloads = work / "raw-downloads"
    downloads.mkdir()
    items: list[DebPackage | Wheel] = [*lock.debian, *lock.python, *lock.runtime]

    def download(index: int) -> None:
        url = locate(items[index])[0]
        target = downloads / str(index)
        if url.startswith("file://"):
            shutil.copyfile(url[len("file://") :], target)
            return
        with requests.get(url, stream=True, timeout=(10, 60)) as r, target.open("wb") as f:
            r.raise_for_status()
            for chunk in r.iter_content(1 << 20):
                f.write(chunk)

    def download_all() -> None:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(download, range(len(items))))

    def sha_all() -> None:
        for path in downloads.iterdir():
            h = hashlib.sha256()
            with path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)

    rootfs = work / "raw-rootfs"
    for blob in layer_blobs:
        extract_layer(blob, rootfs)
    tar_file = work / "raw.tar"
    costs = {"download": timed(download_all), "sha256": timed(sha_all)}
    costs["tar"] = timed(
        lambda: subprocess.run(
            ["tar", "--sort=name", "-cf", str(tar_file), "-C", str(rootfs), "."], check=True
        )
    )
    costs["gzip"] = timed(
        lambda: subprocess.run(["sh", "-c", f"gzip -6 -n -c {tar_file} > /dev/null"], check=True)
    )
    return costs


def gzip_serial_vs_threads(layer_blobs: list[Path]) -> tuple[float, float]:
    tars = [gzip.decompress(blob.read_bytes()) for blob in layer_blobs]

    def compress(data: bytes) -> int:
        return len(zlib.compress(data, 6))

    serial = timed(lambda: [compress(t) for t in tars])
    with ThreadPoolExecutor(max_workers=len(tars)) as pool:
        threaded = timed(lambda: list(pool.map(compress, tars)))
    return serial, threaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("project", nargs="?", default=str(REPO / "examples" / "hello"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cog-bench-") as tmp:
        work = Path(tmp)
        project = prepare(Path(args.project).resolve(), work)
        cold_cache = work / "cache"
        cold = timed(lambda: build(project, cold_cache))
        noop = statistics.median(
            timed(lambda: build(project, cold_cache)) for _ in range(args.runs)
        )
        run_py = project / "run.py"
        code_times = []
        for i in range(args.runs):
            run_py.write_text(run_py.read_text() + f"# edit {i}\n")
            code_times.append(timed(lambda: build(project, cold_cache)))
        code = statistics.median(code_times)
        layout = OciLayout(project / ".cog" / "image")
        digest = layout.resolve("bench")
        assert digest is not None
        manifest = json.loads(layout.blob(digest).read_bytes())
        blobs = [layout.blob(layer["digest"]) for layer in manifest["layers"]]
        raw = raw_costs(project, work, blobs)
        serial, threaded = gzip_serial_vs_threads(blobs)
    raw_total = sum(raw.values())
    print(f"project: {args.project}  ({len(blobs)} layers)")
    print("raw cost of the same bytes: " + ", ".join(f"{k} {v:.2f}s" for k, v in raw.items()))
    print(f"  total {raw_total:.2f}s")
    print(f"cold build          {cold:7.2f}s   {cold / raw_total:5.2f}x raw")
    print(
        f"no-op rebuild       {noop:7.2f}s   {noop / raw_total:5.2f}x raw, {noop / cold:5.3f}x cold"
    )
    print(
        f"code-only rebuild   {code:7.2f}s   {code / raw_total:5.2f}x raw, {code / cold:5.3f}x cold"
    )
    print(
        f"gzip -6 of all layers: serial {serial:.2f}s, threads {threaded:.2f}s "
        f"({serial / threaded:.2f}x)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
