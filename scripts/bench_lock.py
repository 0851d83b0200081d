#!/usr/bin/env python3
"""Benchmark `cog lock` against `uv pip compile` of the same requirements, same run.

For each set: cold (empty cog and uv caches), warm (caches kept, the lock deleted so
everything is resolved again) and no-op (the lock is current). `cog lock` also reads and
verifies three Debian suites and resolves the runtime's wheels, which uv alone does not.

    .venv/bin/python scripts/bench_lock.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cog.locking import lock_project
from cog.progress import NullProgress
from cog.rules.pylock.index_config import read_index_config
from cog.rules.pylock.lockset import cpu_constraints
from cog.rules.pylock.resolve import Target, index_flags, uv_binary

SETS = {
    "requests+pydantic": ["requests", "pydantic"],
    "torch+transformers": ["torch", "transformers"],
}
PREDICT = "from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    pass\n"


def _project(root: Path, requirements: list[str]) -> Path:
    project = root / "project"
    project.mkdir()
    packages = "".join(f"    - {r}\n" for r in requirements)
    (project / "cog.yaml").write_text(
        f'build:\n  python_version: "3.11"\n  python_packages:\n{packages}'
        "predict: predict.py:Predictor\n"
    )
    (project / "predict.py").write_text(PREDICT)
    (project / "requirements.in").write_text("\n".join(requirements) + "\n")
    return project


def _uv_compile(project: Path) -> None:
    argv = [uv_binary(), "pip", "compile", "requirements.in", "-o", "pylock.toml", "-q"]
    argv += ["--no-config", "--python-version", "3.11"]
    argv += ["--python-platform", "x86_64-manylinux_2_36"]
    # The same index settings and CPU-build constraint cog lock uses (gpu: false).
    index = read_index_config()
    argv += index_flags(index)
    target = Target("3.11", "x86_64-manylinux_2_36")
    constraints = cpu_constraints(index, target)
    if constraints:
        (project / "cpu.txt").write_text("\n".join(constraints) + "\n")
        argv += ["--constraint", "cpu.txt"]
    subprocess.run(argv, cwd=project, check=True)


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _run_set(requirements: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cog-bench-") as tmp:
        root = Path(tmp)
        project = _project(root, requirements)
        os.environ["COG_CACHE_DIR"] = str(root / "cog-cache")
        os.environ["UV_CACHE_DIR"] = str(root / "uv-cache")

        def lock() -> None:
            lock_project(project, progress=NullProgress())

        times = {"cog cold": _timed(lock)}
        (project / "cog.lock").unlink()
        times["cog warm"] = _timed(lock)
        times["cog no-op"] = _timed(lock)
        shutil.rmtree(root / "uv-cache")
        times["uv cold"] = _timed(lambda: _uv_compile(project))
        times["uv warm"] = _timed(lambda: _uv_compile(project))
        return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    saved = {k: os.environ.get(k) for k in ("COG_CACHE_DIR", "UV_CACHE_DIR")}
    try:
        for name, requirements in SETS.items():
            runs = [_run_set(requirements) for _ in range(args.repeat)]
            t = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(f"{name} (median of {args.repeat}):")
            for label, seconds in t.items():
                print(f"  {label:10s} {seconds * 1000:8.0f} ms")
            print(f"  cold ratio cog/uv  {t['cog cold'] / t['uv cold']:6.1f}x")
            print(f"  warm ratio cog/uv  {t['cog warm'] / t['uv warm']:6.1f}x")
            print(f"  no-op cog / warm uv {t['cog no-op'] / t['uv warm']:6.2f}x")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


if __name__ == "__main__":
    main()
