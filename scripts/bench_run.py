"""Container overhead of `cog serve` and `cog run`, against the same model served locally.

Builds examples/hello once (in a temporary copy and cache), then, in the same run:
- `cog serve IMAGE` (runc) from start to /health-check READY, and to the process exit
  after SIGTERM;
- `cog serve --local` (this Python, no container) to READY;
- `cog run IMAGE -i name=x` round trip (start, setup, one prediction, teardown).
Prints medians and the ratio of each container row to its local baseline.

Usage: .venv/bin/python scripts/bench_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
COG = str(Path(sys.executable).parent / "cog")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            body = requests.get(f"http://127.0.0.1:{port}/health-check", timeout=1).json()
            if body["status"] == "READY":
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.005)


def time_serve(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds to READY, and seconds from SIGTERM to exit."""
    port = free_port()
    start = time.perf_counter()
    process = subprocess.Popen(
        [*args, "-p", str(port)], cwd=cwd, env=env, stderr=subprocess.DEVNULL
    )
    wait_ready(port, process)
    ready = time.perf_counter() - start
    stop = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    return ready, time.perf_counter() - stop


def time_command(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        project = Path(tmp) / "hello"
        shutil.copytree(ROOT / "examples" / "hello", project, ignore=shutil.ignore_patterns(".cog"))
        env = os.environ | {"COG_CACHE_DIR": str(Path(tmp) / "cache"), "NO_COLOR": "1"}
        subprocess.run(["./prepare.sh"], cwd=project, check=True)
        for step in (["lock"], ["build", "-t", "bench"]):
            subprocess.run([COG, *step, "--progress", "quiet"], cwd=project, env=env, check=True)
        time_serve([COG, "serve", "bench"], project, env)  # unpack the rootfs once

        rows: dict[str, list[float]] = {k: [] for k in ("container", "local", "stop", "run")}
        for _ in range(repeat):
            ready, stopped = time_serve([COG, "serve", "bench"], project, env)
            rows["container"].append(ready)
            rows["stop"].append(stopped)
            rows["local"].append(time_serve([COG, "serve", "--local"], project, env)[0])
            rows["run"].append(time_command([COG, "run", "bench", "-i", "name=x"], project, env))
    med = {k: statistics.median(v) for k, v in rows.items()}
    print(f"{'row':<44} {'median':>9}  ratio")
    print(f"{'cog serve --local: start to READY (baseline)':<44} {med['local']:>8.3f}s  1.00x")
    overhead = med["container"] - med["local"]
    print(
        f"{'cog serve IMAGE (runc): start to READY':<44} {med['container']:>8.3f}s  "
        f"{med['container'] / med['local']:.2f}x  (container overhead {overhead * 1000:.0f} ms)"
    )
    print(f"{'cog serve IMAGE: SIGTERM to clean exit':<44} {med['stop']:>8.3f}s")
    print(
        f"{'cog run IMAGE -i name=x: round trip':<44} {med['run']:>8.3f}s  "
        f"{med['run'] / med['local']:.2f}x of local READY"
    )


if __name__ == "__main__":
    main()
