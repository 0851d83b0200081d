"""The workers of one entry point (predict or train): setup, slots, dispatch, replacement.

A sync model with concurrency N gets N workers (one prediction each); an async model gets
one worker running up to N predictions. A slot is taken when a prediction is admitted and
freed the moment its worker reports it done, before any response is written, so a client
that waits for its response before sending the next request never sees 409.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import trio
from cog.runtime._encode import printable
from cog.runtime._files import has_file_inputs
from cog.runtime._messages import (
    Done,
    HealthResult,
    Loaded,
    Log,
    Metric,
    Output,
    RunJob,
    SetupDone,
    Status,
)
from cog.runtime._prediction import Prediction, now
from cog.runtime._spawn import Prestarted, WorkerSpec
from cog.runtime._workers import Listener, Worker

from cog._signature.model import Signature

log = logging.getLogger("cog.runtime")


# Workers that died are replaced, at most this many within any window this long; past
# that the model is crash-looping and the pool gives up (DEFUNCT). A rate, not a lifetime
# count: a model that crashes now and then over weeks keeps being served. (Settings'
# max_replacements and replacement_window.)
MAX_REPLACEMENTS = 10
REPLACEMENT_WINDOW = 60.0
# Seconds a worker process may take to start its Python and the runtime, before the
# model's import (and COG_SETUP_TIMEOUT's clock) begins; only when a timeout is set.
STARTUP_LIMIT = 30.0


class AtCapacity(Exception):  # noqa: N818
    pass


@dataclass
class SetupState:
    started_at: str | None = None
    completed_at: str | None = None
    status: str = "starting"  # starting, succeeded, failed
    logs: list[str] = field(default_factory=list)


@dataclass
class Job:
    prediction: Prediction
    kwargs: dict[str, object]
    chunks: trio.MemorySendChannel[tuple[int, object]]
    chunk_receive: trio.MemoryReceiveChannel[tuple[int, object]]
    finished: trio.Event = field(default_factory=trio.Event)
    result: Done | None = None
    worker: Worker | None = None
    started: float = 0.0
    dispatched: bool = False
    # Called with the result as it arrives, before anything else is woken: the service
    # completes a prediction whose output needs no further work right there.
    on_finish: Callable[[Done], None] | None = None

    def finish(self, result: Done) -> None:
        if self.result is None:
            self.result = result
            with contextlib.suppress(trio.BrokenResourceError):
                self.chunks.close()
            if self.on_finish is not None:
                self.on_finish(result)
            self.finished.set()


class Pool(Listener):
    def __init__(self, spec: WorkerSpec, capacity: int, setup_timeout: float | None,
                 cancel_grace: float, prestarted: Prestarted | None = None, *,
                 replacements: tuple[int, float] = (MAX_REPLACEMENTS, REPLACEMENT_WINDOW),
                 ) -> None:  # fmt: skip
        self.spec = spec
        self._max_replacements, self._replacement_window = replacements
        self._replaced: collections.deque[float] = collections.deque()  # when, monotonic
        self._prestarted = prestarted  # worker 0, started before the server imported trio
        self.capacity = capacity
        self.setup_timeout = setup_timeout
        self.cancel_grace = cancel_grace
        self.signature: Signature | None = None
        self.load_error: str | None = None
        self.setup = SetupState()
        self.busy = 0
        self.defunct = False
        self.became_defunct = trio.Event()
        self.has_healthcheck = False
        self._other_logs: dict[int, list[str]] = {}  # setup output of workers 1..N-1
        self.file_inputs = False  # any Path/File input: fetch URLs before running
        self.workers: list[Worker] = []
        self.jobs: dict[str, Job] = {}
        self._setup_pending = 0
        self._setup_done = trio.Event()
        self._loaded = trio.Event()
        self._queue: collections.deque[Job] = collections.deque()  # dispatched, no lane yet
        self._free: collections.deque[Worker] = collections.deque()  # one entry per idle lane
        self._nursery: trio.Nursery | None = None
        self._stopping = False

    async def wait_setup(self) -> None:
        """Return once setup has finished, well or not."""
        await self._setup_done.wait()

    @property
    def ready(self) -> bool:
        return self.setup.status == "succeeded" and not self.defunct

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.setup.started_at = now()
            prestarted = self._prestarted
            started = prestarted.started if prestarted is not None else time.monotonic()
            self._spawn(0)
            nursery.start_soon(self._watch_setup_timeout, started)
            task_status.started()

    def _spawn(self, index: int) -> None:
        prestarted, self._prestarted = self._prestarted, None
        worker = Worker(self.spec, self, index, prestarted)
        replacing = index < len(self.workers)
        if replacing:
            self.workers[index] = worker
        else:
            self.workers.append(worker)
            self._setup_pending += 1
        assert self._nursery is not None
        self._nursery.start_soon(worker.run_process)
        if replacing and self.setup_timeout is not None:
            self._nursery.start_soon(self._watch_replacement, worker, self.setup_timeout)

    async def _watch_setup_timeout(self, started: float) -> None:
        timeout = self.setup_timeout
        if timeout is None:
            return
        # Worker 0's clock: a model whose import never returns fails too, instead of
        # staying STARTING for ever.
        worker = self.workers[0]
        late = await _setup_deadline(worker, started, timeout, self._setup_done)
        if late is not None:
            if not self._loaded.is_set():
                self.load_error = f"{late} did not finish within COG_SETUP_TIMEOUT={timeout:g}s"
            self._fail_setup(f"{late} did not finish within COG_SETUP_TIMEOUT={timeout:g}s")

    async def _watch_replacement(self, worker: Worker, timeout: float) -> None:
        """A replacement not ready within COG_SETUP_TIMEOUT is killed (and, never having
        been ready, leaves its slot dead) instead of holding the slot for ever."""
        late = await _setup_deadline(worker, time.monotonic(), timeout, worker.became_ready)
        if late is not None and worker.alive and not worker.ever_ready:
            message = "replacement worker %d: %s did not finish within COG_SETUP_TIMEOUT=%gs"
            log.warning(message, worker.index, late, timeout)
            worker.kill()

    def _fail_setup(self, error: str) -> None:
        if self.setup.status != "starting":
            return
        self.setup.status = "failed"
        self.setup.completed_at = now()
        self.setup.logs.append(error + "\n")
        self._setup_done.set()
        self._loaded.set()
        self._stopping = True
        for worker in self.workers:
            worker.kill()

    # Listener: what workers report

    def on_loaded(self, message: Loaded) -> None:
        if message.signature is None:
            self.load_error = message.error
            self._fail_setup(f"cannot load the model: {message.error}")
            return
        self._loaded.set()
        if self.signature is None:
            self.signature = message.signature
            self.file_inputs = has_file_inputs(message.signature)
            extra = 0 if message.signature.is_async else self.capacity - 1
            for index in range(1, 1 + extra):
                self._spawn(index)

    def on_setup_log(self, worker: Worker, message: Log) -> None:
        # N workers print the same setup: health shows the first one's, once.
        # print()ed text reaches us unencoded: it may hold lone surrogates, which no JSON
        # response could carry.
        data = printable(message.data)
        if self.setup.status == "starting" and worker.index == 0:
            self.setup.logs.append(data)
        elif self.setup.status == "starting":
            self._other_logs.setdefault(worker.index, []).append(data)
        else:
            log.info("%s", data.rstrip("\n"))

    def on_setup_done(self, worker: Worker, message: SetupDone) -> None:
        if message.error is not None:
            self.setup.logs.extend(self._other_logs.get(worker.index, []))
            self._fail_setup(f"setup failed: {message.error}")
            return
        self.has_healthcheck = message.has_healthcheck
        lanes = self.capacity if self.signature and self.signature.is_async else 1
        self._free.extend([worker] * lanes)
        self._pump()
        if self.setup.status == "starting":
            self._setup_pending -= 1
            if self._setup_pending == 0:
                self.setup.status = "succeeded"
                self.setup.completed_at = now()
                self._setup_done.set()

    def on_prediction_message(self, message: Log | Output | Metric | Done) -> None:
        job = self.jobs.get(message.id)  # type: ignore[arg-type]
        if job is None:
            return
        if isinstance(message, Log):
            job.prediction.add_log(message.source, printable(message.data))
        elif isinstance(message, Output):
            # Closed when the prediction already ended (an upload failed): drop the chunk.
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                job.chunks.send_nowait((message.index, message.value))
        elif isinstance(message, Metric):
            job.prediction.add_metric(message.name, message.value, message.mode)
        else:
            self._release(job)
            job.finish(message)

    def on_exit(self, worker: Worker, code: int | None, *, stopping: bool) -> None:
        for job in [j for j in self.jobs.values() if j.worker is worker]:
            self._release(job)
            if job.prediction.cancel_requested:
                status, error = Status.CANCELED, None
            else:
                status = Status.FAILED
                error = f"the worker process running this prediction {_how(code)}"
            job.finish(Done(job.prediction.id, status, None, error, {}, _elapsed(job)))
        self._stopping = self._stopping or stopping
        if self._stopping or self.setup.status != "succeeded":
            if self.setup.status == "starting":
                self._fail_setup(f"the worker process {_how(code)} during setup")
            return
        if worker.index < len(self.workers) and self.workers[worker.index] is worker:
            if not worker.ever_ready or not self._may_replace():
                self._mark_defunct(worker)
                return
            log.warning("worker %d exited (code %s); starting a replacement", worker.index, code)
            self._spawn(worker.index)

    def _may_replace(self) -> bool:
        """Count a replacement against the budget; False once the rate is exceeded."""
        now_ = time.monotonic()
        replaced = self._replaced
        while replaced and now_ - replaced[0] > self._replacement_window:
            replaced.popleft()
        if len(replaced) >= self._max_replacements:
            message = "workers died %d times within %gs: giving up (DEFUNCT)"
            log.error(message, len(replaced) + 1, self._replacement_window)
            return False
        replaced.append(now_)
        return True

    def _mark_defunct(self, worker: Worker) -> None:
        worker.dead = True
        if all(w.dead for w in self.workers):
            self.defunct = True
            self.became_defunct.set()
            for job in list(self.jobs.values()):
                self._release(job)
                job.finish(
                    Done(job.prediction.id, Status.FAILED, None, "the model is defunct", {}, 0.0)
                )

    # Predictions

    def admit(self, prediction: Prediction, kwargs: dict[str, object]) -> Job:
        if self.busy >= self.capacity:
            raise AtCapacity
        self.busy += 1
        send, receive = trio.open_memory_channel["tuple[int, object]"](math.inf)
        job = Job(prediction, kwargs, send, receive)
        self.jobs[prediction.id] = job
        return job

    def dispatch(self, job: Job, kwargs: dict[str, object]) -> None:
        job.kwargs = kwargs
        job.dispatched = True
        self._queue.append(job)
        self._pump()

    def abandon(self, job: Job, done: Done) -> None:
        """Finish a job that never reached a worker (its inputs could not be fetched)."""
        self._release(job)
        job.finish(done)

    def _release(self, job: Job) -> None:
        if self.jobs.pop(job.prediction.id, None) is not None:
            self.busy -= 1

    def on_lane_free(self, worker: Worker) -> None:
        if worker.alive:
            self._free.append(worker)
            self._pump()

    def _pump(self) -> None:
        """Start queued jobs on idle lanes, now (no task in between: fewer scheduler rounds)."""
        while self._queue and self._free and not self._stopping:
            worker = self._free.popleft()
            if not worker.alive:
                continue  # its lanes end with it; a replacement brings its own
            job = self._queue.popleft()
            if job.result is None and job.prediction.cancel_requested:
                self.abandon(job, Done(job.prediction.id, Status.CANCELED, None, None, {}, 0.0))
            if job.result is not None:
                self._free.appendleft(worker)
                continue
            job.worker = worker
            job.started = time.perf_counter()
            job.prediction.start()
            context = job.prediction.request.context or None
            main_thread = self.signature is None or not self.signature.is_async
            worker.start(RunJob(job.prediction.id, job.kwargs, context), main_thread=main_thread)

    async def cancel(self, job: Job) -> None:
        job.prediction.cancel_requested = True
        worker = job.worker
        if worker is None:
            if job.result is None:
                self.abandon(job, Done(job.prediction.id, Status.CANCELED, None, None, {}, 0.0))
            return
        await worker.cancel(job.prediction.id)
        with trio.move_on_after(self.cancel_grace):
            await job.finished.wait()
            return
        log.warning("prediction %s ignored its cancelation; killing its worker", job.prediction.id)
        worker.kill()

    async def healthcheck(self, timeout: float) -> HealthResult:
        for worker in self.workers:
            if worker.ready:
                return await worker.healthcheck(timeout)
        return HealthResult(ok=True)

    def stop(self) -> None:
        self._stopping = True
        for worker in self.workers:
            worker.kill()


async def _setup_deadline(
    worker: Worker, spawned: float, timeout: float, done: trio.Event
) -> str | None:
    """Wait for ``done`` within COG_SETUP_TIMEOUT; None if it came, else what was late.

    The clock starts when the worker begins importing the model (its import counts, the
    runtime's own interpreter startup does not); a worker that never gets that far is
    given up on after the timeout or STARTUP_LIMIT from its spawn, whichever is longer.
    """
    startup = max(timeout, STARTUP_LIMIT)
    with trio.move_on_after(max(0.0, startup - (time.monotonic() - spawned))):
        await worker.importing.wait()
    if not worker.importing.is_set():
        return "the worker's startup"
    left = timeout - (time.monotonic() - worker.importing_since)
    with trio.move_on_after(max(0.0, left)):
        await done.wait()
        return None
    return "setup" if worker.loaded else "the model's import"


def _how(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited (exit code {code})"


def _elapsed(job: Job) -> float:
    return time.perf_counter() - job.started if job.started else 0.0
