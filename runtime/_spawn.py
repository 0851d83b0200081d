"""A worker's command line, and starting the first worker before the server imports trio.

Importing the HTTP stack takes the supervisor a few hundred milliseconds; the first worker
(importing the model, running setup()) need not wait for that, so ``python -m cog.runtime``
starts it first, with plain ``subprocess``, and the pool adopts it. No trio here.

Every worker is started by the thread that runs the server (never one of trio's worker
threads): a worker asks the kernel for SIGKILL when its parent *thread* exits
(PR_SET_PDEATHSIG, see cog.runtime.worker), and trio's threads come and go.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from cog._signature.model import Mode
from cog.runtime.settings import Settings


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
    started: float = field(default_factory=time.monotonic)  # when it was started


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
        "--mode", spec.mode.value, "--parent-pid", str(os.getpid()),
    ]  # fmt: skip
    if spec.weights:
        argv += ["--weights", spec.weights]
    return argv


def prestart(settings: Settings) -> Prestarted | None:
    """Start the primary entry point's first worker now; None when there is none."""
    specs = worker_specs(settings)
    if not specs:
        return None
    return _spawn(next(iter(specs.values())))


def prestart_early() -> Prestarted | None:
    """Start the predict worker before cog.yaml is validated (that takes a while).

    Its spec comes from a plain YAML read of cog.yaml and the environment; ``confirm``
    then keeps it only if the validated settings ask for exactly that worker.
    """
    spec = _early_spec()
    return None if spec is None else _spawn(spec)


def confirm(early: Prestarted | None, settings: Settings | None) -> Prestarted | None:
    """``early`` if the validated settings want that very worker; else it is stopped."""
    if early is None:
        return None
    specs = {} if settings is None else worker_specs(settings)
    if specs and next(iter(specs.values())) == early.spec:
        return early
    discard(early)
    return None


def discard(early: Prestarted) -> None:
    os.close(early.to_worker)  # at end of input the worker exits at once
    os.close(early.jobs)
    os.close(early.from_worker)
    early.process.kill()
    early.process.wait()


def _early_spec() -> WorkerSpec | None:
    ref = os.environ.get("COG_PREDICT_TYPE_STUB") or None
    project = Path.cwd().resolve()
    if ref is None:
        from cog.config._yaml import YMap, YScalar, parse_yaml  # noqa: PLC0415
        from cog.errors import CogError  # noqa: PLC0415

        path = project / "cog.yaml"
        try:
            # The bounded parser: an alias bomb is refused here in milliseconds too.
            doc = parse_yaml(path.read_text(encoding="utf-8"), str(path))
        except (OSError, UnicodeDecodeError, CogError):
            return None  # no cog.yaml, or one the full read will explain
        entry = (doc.get("run") or doc.get("predict")) if isinstance(doc, YMap) else None
        if entry is not None and isinstance(entry.value, YScalar):
            ref = entry.value.value if isinstance(entry.value.value, str) else None
    if ref is None:
        return None
    weights = os.environ.get("COG_WEIGHTS") or None
    return WorkerSpec(str(project), ref, Mode.PREDICT, weights, sys.executable)


def _spawn(spec: WorkerSpec) -> Prestarted | None:
    try:
        return spawn(spec)
    except OSError:
        return None  # left to the pool, which starts it again and reports the failure


def spawn(spec: WorkerSpec) -> Prestarted:
    """Start a worker process with its three pipes (OSError when it cannot be started)."""
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
        for fd in (to_worker_w, jobs_w, from_worker_r):
            os.close(fd)
        raise
    finally:
        for fd in (to_worker_r, jobs_r, from_worker_w):
            os.close(fd)
    return Prestarted(spec, process, to_worker_w, jobs_w, from_worker_r)
