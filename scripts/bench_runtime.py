#!/usr/bin/env python3
"""Benchmark the runtime against the reference servers, measured in the same run.

Rows: cold start to READY (the median of --boots starts, one ms-noisy sample says little
on a shared machine), sequential echo predictions (1 connection: req/s, p50, p99),
8 concurrent connections (2xx/s and 409s), and cancel latency during time.sleep(10).
Reference servers come from virtual environments made beforehand (see
CONTRIBUTING.md, Benchmarks), e.g.:

    python3 -m venv /tmp/ref023 && /tmp/ref023/bin/pip install cog==0.23.1 coglet==0.23.1
    python3 -m venv /tmp/ref016 && /tmp/ref016/bin/pip install cog==0.16.12

Every server is started once, untimed, before its cold start is measured: the page cache
is warm for all alike. Ours gets compiled bytecode, as in an image (rules/pyc.py) and as
pip gave the reference servers: a scratch PYTHONPYCACHEPREFIX, filled by that first start
(a development venv made by uv has no .pyc, and PYTHONDONTWRITEBYTECODE may be set);
--no-bytecode measures it without.

Usage: scripts/bench_runtime.py [--seconds 3] [--boots 5] [--ref023 /tmp/ref023]
                                [--ref016 /tmp/ref016] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

PREDICTOR = """
import time
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        pass

    def predict(self, text: str = Input(default="x"), sleep: float = Input(default=0.0)) -> str:
        if sleep:
            time.sleep(sleep)
        return text
"""
COG_YAML = 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'


@dataclass
class Server:
    name: str
    argv: list[str]
    env: dict[str, str]
    results: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()  # environment variables removed for this server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (127.0.0.1)
        body: dict[str, object] = json.loads(response.read())
        return body


def _request(method: str, url: str, body: dict[str, object]) -> int:
    data = json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (127.0.0.1 only)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code


def _start(server: Server, model_dir: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    env = dict(os.environ, **server.env, PORT=str(port))
    for name in server.unset:
        env.pop(name, None)
    started = time.perf_counter()
    proc = subprocess.Popen(
        server.argv, cwd=model_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/health-check"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if _get_json(url).get("status") == "READY":
                return proc, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.005)
    proc.kill()
    raise RuntimeError(f"{server.name} never became READY")


async def _client(port: int, stop: float, latencies: list[float], statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"input":{"text":"hello"}}'
    request = (
        b"POST /predictions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    while time.perf_counter() < stop:
        started = time.perf_counter()
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:  # the server closed a keep-alive connection
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1
    writer.close()


def _load(port: int, connections: int, seconds: float) -> tuple[list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def main() -> None:
        stop = time.perf_counter() + seconds
        await asyncio.gather(
            *(_client(port, stop, latencies, statuses) for _ in range(connections))
        )

    asyncio.run(main())
    return latencies, statuses


def _cancel_latency(port: int) -> float:
    """Seconds from POST .../cancel to the sync PUT's response, while predict() sleeps 10 s."""
    base = f"http://127.0.0.1:{port}"
    done = threading.Event()
    holder: list[float] = []

    def put() -> None:
        _request("PUT", base + "/predictions/benchcancel", {"input": {"sleep": 10.0}})
        holder.append(time.perf_counter())
        done.set()

    thread = threading.Thread(target=put, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while _get_json(base + "/health-check").get("status") != "BUSY":
        if time.monotonic() > deadline:
            return float("nan")
        time.sleep(0.005)
    time.sleep(0.2)  # let predict() reach time.sleep
    sent = time.perf_counter()
    _request("POST", base + "/predictions/benchcancel/cancel", {})
    done.wait(30)
    return holder[0] - sent if holder else float("nan")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _measure(server: Server, model_dir: Path, seconds: float, boots: int) -> None:
    _stop(_start(server, model_dir, _free_port())[0])  # untimed: warm caches
    times = []
    for _ in range(boots - 1):
        proc, boot = _start(server, model_dir, _free_port())
        _stop(proc)
        times.append(boot)
    port = _free_port()
    proc, boot = _start(server, model_dir, port)
    times.append(boot)
    try:
        server.results["boot"] = f"{statistics.median(times) * 1000:.0f} ms"
        _load(port, 1, 0.5)  # warm up
        latencies, statuses = _load(port, 1, seconds)
        ok = statuses.get(200, 0)
        server.results["seq_rps"] = f"{ok / seconds:.0f}"
        server.results["seq_p50"] = f"{statistics.median(latencies) * 1000:.2f} ms"
        p99 = statistics.quantiles(latencies, n=100)[98]
        server.results["seq_p99"] = f"{p99 * 1000:.2f} ms"
        server.results["seq_409"] = str(statuses.get(409, 0))
        _, statuses = _load(port, 8, seconds)
        server.results["c8_rps"] = f"{statuses.get(200, 0) / seconds:.0f}"
        server.results["c8_409"] = str(statuses.get(409, 0))
        server.results["cancel"] = f"{_cancel_latency(port) * 1000:.0f} ms"
    finally:
        _stop(proc)


def _servers(args: argparse.Namespace, scratch: Path) -> list[Server]:
    ours = Server(
        "hermetic-cog",
        [sys.executable, "-m", "cog.runtime", "--host", "127.0.0.1"],
        {"PYTHONPATH": str(REPO)},
    )
    if not args.no_bytecode:
        ours.env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        ours.unset = ("PYTHONDONTWRITEBYTECODE",)
    servers = [ours]
    for name, venv, env in (
        ("cog 0.23.1", args.ref023, {"COG_PREDICT_TYPE_STUB": "predict.py:Predictor"}),
        ("cog 0.16.12", args.ref016, {}),
    ):
        python = Path(venv) / "bin" / "python"
        if python.exists():
            path = f"{Path(venv) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
            argv = [str(python), "-m", "cog.server.http", "--host", "127.0.0.1"]
            servers.append(Server(name, argv, {**env, "PATH": path}))
        else:
            print(f"skipping {name}: no virtual environment at {venv}", file=sys.stderr)
    return servers


def _table(servers: list[Server]) -> None:
    rows: list[tuple[str, str, Callable[[str], float] | None]] = [
        ("boot", "cold start to READY", None),
        ("seq_rps", "1 conn, 2xx/s", float),
        ("seq_p50", "1 conn, p50", None),
        ("seq_p99", "1 conn, p99", None),
        ("seq_409", "1 conn, 409s", None),
        ("c8_rps", "8 conns, 2xx/s", float),
        ("c8_409", "8 conns, 409s", None),
        ("cancel", "cancel during sleep(10)", None),
    ]
    names = [s.name for s in servers]
    print(f"{'':28}" + "".join(f"{n:>16}" for n in names))
    for key, label, _ in rows:
        print(f"{label:28}" + "".join(f"{s.results.get(key, '-'):>16}" for s in servers))
    ours = servers[0].results
    for other in servers[1:]:
        for key in ("seq_rps", "c8_rps"):
            theirs = float(other.results.get(key, "0") or 0)
            if theirs:
                ratio = float(ours[key]) / theirs
                print(f"{key}: hermetic-cog / {other.name} = {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    scratch = Path(tempfile.gettempdir())
    parser.add_argument("--ref023", default=str(scratch / "ref023"))
    parser.add_argument("--ref016", default=str(scratch / "ref016"))
    parser.add_argument("--boots", type=int, default=5, help="cold starts to take the median of")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="run ours without compiled bytecode"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cog-bench-") as tmp:
        model_dir = Path(tmp) / "model"
        model_dir.mkdir()
        (model_dir / "predict.py").write_text(PREDICTOR)
        (model_dir / "cog.yaml").write_text(COG_YAML)
        servers = _servers(args, Path(tmp))
        for server in servers:
            print(f"measuring {server.name}...", file=sys.stderr)
            _measure(server, model_dir, args.seconds, args.boots)
        _table(servers)


if __name__ == "__main__":
    main()
