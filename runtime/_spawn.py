"""A worker's command line, and starting the first worker before the server imports trio.

Importing the HTTP stack takes the supervisor a few hundred milliseconds; the first worker
(importing the model, running setup()) need not wait for that, so ``python -m cog.runtime``
starts it first, with plain ``subprocess``, and the pool adopts it. No trio here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

from cog.runtime.settings import Settings

from cog._signature.model import Mode


@dataclass(frozen=True)
class WorkerSpec:
    project_dir: str
    ref: str
    mode: Mode
    weights: str | None
    python: str


@dataclass(frozen=True)
class Prestarted:
    """A worker process already running, and our ends of its two pipes."""

    spec: WorkerSpec
    process: subprocess.Popen[bytes]
    to_worker: int
    jobs: int
    from_worker: int


def worker_specs(settings: Settings) -> dict[Mode, WorkerSpec]:
    """The spec of each entry point's workers, the primary one (predict) first."""
    python = settings.python or sys.executable
    return {
        mode: WorkerSpec(str(settings.project_dir), ref, mode, settings.weights, python)
        for mode, ref in ((Mode.PREDICT, settings.predict_ref), (Mode.TRAIN, settings.train_ref))
        if ref
    }


def worker_argv(spec: WorkerSpec, read_fd: int, jobs_fd: int, write_fd: int) -> list[str]:
    argv = [
        spec.python, "-m", "cog.runtime.worker",
        "--read-fd", str(read_fd), "--jobs-fd", str(jobs_fd), "--write-fd", str(write_fd),
        "--project-dir", spec.project_dir, "--ref", spec.ref,
        "--mode", spec.mode.value,
    ]  # fmt: skip
    if spec.weights:
        argv += ["--weights", spec.weights]
    return argv


def prestart(settings: Settings) -> Prestarted | None:
    """Start the primary entry point's first worker now; None when there is none."""
    specs = worker_specs(settings)
    if not specs:
        return None
    spec = next(iter(specs.values()))
    to_worker_r, to_worker_w = os.pipe()
    jobs_r, jobs_w = os.pipe()
    from_worker_r, from_worker_w = os.pipe()
    try:
        process = subprocess.Popen(
            worker_argv(spec, to_worker_r, jobs_r, from_worker_w),
            pass_fds=(to_worker_r, jobs_r, from_worker_w),
            stdin=subprocess.DEVNULL,
            cwd=spec.project_dir,
        )
    except OSError:
        # Left to the pool, which starts it again and reports the failure as usual.
        for fd in (to_worker_w, jobs_w, from_worker_r):
            os.close(fd)
        return None
    finally:
        for fd in (to_worker_r, jobs_r, from_worker_w):
            os.close(fd)
    return Prestarted(spec, process, to_worker_w, jobs_w, from_worker_r)
