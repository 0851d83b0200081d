#!/usr/bin/env python3
"""Benchmark ``cog.rules.registry.image_push`` against ``skopeo copy`` on a local docker-registry.

Builds an OCI layout of random layers under /tmp (2 GB by default), starts a registry on
127.0.0.1 with its storage in /tmp, then, in the same run, pushes the image with our push
and with skopeo (each to a fresh repository), and re-pushes the unchanged image. Prints
wall times, their ratio and each pusher's peak RSS (from wait4 on its own process).
Everything it created is deleted at the end.

    .venv/bin/python scripts/bench_push.py [--size 2G] [--layers 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

_PUSH = """
import sys, time
from pathlib import Path
from cog.progress import NullProgress
from cog.rules.registry import push
started = time.perf_counter()
result = push(Path(sys.argv[1]), sys.argv[2], sys.argv[3], progress=NullProgress())
elapsed = time.perf_counter() - started
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(f"{elapsed:.3f} {len(result.uploaded)} {result.bytes_sent} {int(hwm) / 1024:.1f}")
"""


@dataclass(frozen=True)
class Run:
    wall_s: float
    max_rss_mb: float
    output: str


def _size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _random_gzip_layer(blobs: Path, size: int) -> tuple[str, int]:
    """``size`` random bytes as a stored (level 0) gzip stream: real gzip, no CPU spent."""
    digest, written = hashlib.sha256(), 0
    packer = zlib.compressobj(level=0, wbits=31)
    tmp = blobs / ".partial"
    with tmp.open("wb") as out:
        left = size
        while left:
            n = min(left, 4 << 20)
            piece = packer.compress(os.urandom(n))
            left -= n
            if not left:
                piece += packer.flush()
            digest.update(piece)
            out.write(piece)
            written += len(piece)
    tmp.rename(blobs / digest.hexdigest())
    return f"sha256:{digest.hexdigest()}", written


def _put(blobs: Path, data: bytes) -> str:
    hexdigest = hashlib.sha256(data).hexdigest()
    (blobs / hexdigest).write_bytes(data)
    return f"sha256:{hexdigest}"


def make_layout(root: Path, total: int, layers: int) -> str:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    descs = [_random_gzip_layer(blobs, total // layers) for _ in range(layers)]
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [d for d, _ in descs]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _put(blobs, config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d, "size": s}
                for d, s in descs
            ],
        }
    ).encode()
    digest = _put(blobs, manifest)
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": digest,
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": "bench"},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    return digest


def start_registry(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    host = f"127.0.0.1:{port}"
    config = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "storage")}},
        "http": {"addr": host, "secret": "bench"},
    }
    (root / "config.yml").write_text(yaml.safe_dump(config))
    proc = subprocess.Popen(
        ["docker-registry", "serve", str(root / "config.yml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://{host}/v2/", timeout=1)
            return proc, host
        except requests.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("docker-registry did not start")


def _hwm_mb(pid: int | str) -> float:
    """VmHWM (peak resident set) of a live process, from /proc; 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(argv: list[str], env: dict[str, str]) -> Run:
    """Run ``argv``: wall time and peak RSS. getrusage/wait4 would report the forking
    parent's peak too (Linux keeps the high-water mark across exec), so read the child's
    own VmHWM from /proc while it runs (a push also reports its own at the end).
    """
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=errors)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _hwm_mb(proc.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        out.seek(0)
        errors.seek(0)
        output, err = out.read().decode().strip(), errors.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {err}")
    return Run(wall, peak, output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="2G", help="total size of the layers (e.g. 2G, 512M)")
    parser.add_argument("--layers", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-push-", dir="/tmp"))
    registry = None
    try:
        print(f"making a {args.size} layout with {args.layers} layers under {work} ...")
        digest = make_layout(work / "layout", _size(args.size), args.layers)
        registry, host = start_registry(work)
        env = {**os.environ, "COG_CACHE_DIR": str(work / "cache")}
        python = [sys.executable, "-c", _PUSH, str(work / "layout"), digest]
        ours = timed([*python, f"{host}/bench/ours:bench"], env)
        skopeo = timed(
            [
                "skopeo",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
                f"oci:{work / 'layout'}:bench",
                f"docker://{host}/bench/skopeo:bench",
            ],
            env,
        )
        again = timed([*python, f"{host}/bench/ours:bench"], env)
        ours_inner = float(ours.output.split()[0])
        again_inner = float(again.output.split()[0])
        print(
            f"push (ours)       {ours.wall_s:7.2f} s  (in-process {ours_inner:.2f} s)  "
            f"peak RSS {ours.max_rss_mb:6.1f} MB"
        )
        print(f"skopeo copy       {skopeo.wall_s:7.2f} s  peak RSS {skopeo.max_rss_mb:6.1f} MB")
        print(f"ratio ours/skopeo {ours.wall_s / skopeo.wall_s:7.2f}x  (target <= 1.0x)")
        print(
            f"re-push unchanged {again.wall_s:7.2f} s  (in-process {again_inner:.3f} s, "
            f"uploaded {again.output.split()[1]} blobs; target < 0.5 s)  "
            f"peak RSS {again.max_rss_mb:6.1f} MB"
        )
    finally:
        if registry is not None:
            registry.kill()
            registry.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
