"""The workers of one entry point (predict or train): setup, slots, dispatch, replacement.

A sync model with concurrency N gets N workers (one prediction each); an async model gets
one worker running up to N predictions. A slot is taken when a prediction is admitted and
freed the moment its worker reports it done, before any response is written, so a client
that waits for its response before sending the next request never sees 409. The server
asks ``status()`` (health and admission alike), ``try_admit()`` then ``dispatch()``,
``find()``/``cancel()``; nothing outside reads its counters or its workers.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import time
import typing
from collections.abc import Callable

import trio

from cog._signature.model import Mode, Signature
from cog.runtime._file_transfer import has_file_inputs
from cog.runtime._job import (
    AtCapacity,
    Job,
    PoolStatus,
    ReplacementBudget,
    SetupState,
    how_it_ended,
    setup_deadline,
)
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
    printable,
)
from cog.runtime._prediction import Prediction, now
from cog.runtime._spawn import Prestarted, WorkerSpec, discard
from cog.runtime._worker_proxy import Listener, Worker

__all__ = ["AtCapacity", "Job", "Pool", "PoolStatus"]

log = logging.getLogger("cog.runtime")


# Workers that died are replaced, at most this many within any window this long; past
# that the model is crash-looping and the pool gives up (DEFUNCT). A rate, not a lifetime
# count: a model that crashes now and then over weeks keeps being served. (Settings'
# max_replacements and replacement_window.)
MAX_REPLACEMENTS = 10
REPLACEMENT_WINDOW = 60.0

WorkerFactory = typing.Callable[[WorkerSpec, Listener, int, "Prestarted | None"], Worker]


class Pool(Listener):
    def __init__(self, spec: WorkerSpec, capacity: int, setup_timeout: float | None,
                 cancel_grace: float, prestarted: Prestarted | None = None, *,
                 replacements: tuple[int, float] = (MAX_REPLACEMENTS, REPLACEMENT_WINDOW),
                 worker_factory: WorkerFactory = Worker, capacity_fixed: bool = False,
                 setup_error: str | None = None,
                 ) -> None:  # fmt: skip
        """``capacity``: predictions at once, unless the model's @concurrent(max=N) says
        otherwise and ``capacity_fixed`` is False (COG_MAX_CONCURRENCY was not given).
        ``setup_error``: setup fails with it, no worker started (the model is not there)."""
        self.spec = spec
        self._replacements = ReplacementBudget(*replacements)
        self._prestarted = prestarted  # worker 0, started before the server imported trio
        self._new_worker = worker_factory
        self._capacity = capacity
        self._capacity_fixed = capacity_fixed
        self.setup_timeout = setup_timeout
        self.cancel_grace = cancel_grace
        self._signature: Signature | None = None
        self.load_error: str | None = None
        self._setup = SetupState()
        self._busy = 0
        self._defunct = False
        self.became_defunct = trio.Event()
        self._has_healthcheck = False
        self._other_logs: dict[int, list[str]] = {}  # setup output of workers 1..N-1
        self._file_inputs = False  # any Path/File input: fetch URLs before running
        self._workers: list[Worker] = []
        self._jobs: dict[str, Job] = {}
        self._setup_pending = 0
        self._setup_done = trio.Event()
        self._loaded = trio.Event()
        self._queue: collections.deque[Job] = collections.deque()  # dispatched, no lane yet
        self._free: collections.deque[Worker] = collections.deque()  # one entry per idle lane
        self._nursery: trio.Nursery | None = None
        self._stopping = False
        self._setup_error = setup_error

    @property
    def mode(self) -> Mode:
        return self.spec.mode

    @property
    def signature(self) -> Signature | None:
        """The model's signature, once it imported (None before, and when it failed)."""
        return self._signature

    @property
    def file_inputs(self) -> bool:
        """Whether a prediction's inputs may name URLs to fetch before it runs."""
        return self._file_inputs

    @property
    def has_healthcheck(self) -> bool:
        """Whether the model defines its own healthcheck()."""
        return self._has_healthcheck

    @property
    def capacity(self) -> int:
        return self._capacity

    def status(self) -> PoolStatus:
        """Where the pool stands: what /health-check reports and admission decides by."""
        if self._defunct:
            return PoolStatus.DEFUNCT
        if self._setup.status == "failed":
            return PoolStatus.SETUP_FAILED
        if self._setup.status == "starting":
            return PoolStatus.STARTING
        if self._busy >= self._capacity:
            return PoolStatus.BUSY
        return PoolStatus.READY

    @property
    def ready(self) -> bool:
        return self.status().serving

    def setup_report(self) -> dict[str, object]:
        return self._setup.report()

    def find(self, prediction_id: str) -> Job | None:
        """The admitted prediction with that id, until its worker reports it done."""
        return self._jobs.get(prediction_id)

    def admitted(self) -> list[Job]:
        return list(self._jobs.values())

    async def wait_setup(self) -> None:
        """Return once setup has finished, well or not."""
        await self._setup_done.wait()

    # Lifecycle

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._setup.started_at = now()
            if self._setup_error is not None:
                if self._prestarted is not None:
                    discard(self._prestarted)
                log.error("setup failed: %s", self._setup_error)
                self.load_error = self._setup_error
                self._fail_setup(self._setup_error)
                task_status.started()
                return
            prestarted = self._prestarted
            started = prestarted.started if prestarted is not None else time.monotonic()
            self._spawn(0)
            nursery.start_soon(self._watch_setup_timeout, started)
            task_status.started()

    def stop(self) -> None:
        self._stopping = True
        for worker in self._workers:
            worker.kill()

    def _spawn(self, index: int) -> None:
        prestarted, self._prestarted = self._prestarted, None
        worker = self._new_worker(self.spec, self, index, prestarted)
        replacing = index < len(self._workers)
        if replacing:
            self._workers[index] = worker
        else:
            self._workers.append(worker)
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
        worker = self._workers[0]
        late = await setup_deadline(worker, started, timeout, self._setup_done)
        if late is not None:
            if not self._loaded.is_set():
                self.load_error = f"{late} did not finish within COG_SETUP_TIMEOUT={timeout:g}s"
            self._fail_setup(f"{late} did not finish within COG_SETUP_TIMEOUT={timeout:g}s")

    async def _watch_replacement(self, worker: Worker, timeout: float) -> None:
        """A replacement not ready within COG_SETUP_TIMEOUT is killed (and, never having
        been ready, leaves its slot dead) instead of holding the slot for ever."""
        late = await setup_deadline(worker, time.monotonic(), timeout, worker.became_ready)
        if late is not None and worker.alive and not worker.ever_ready:
            message = "replacement worker %d: %s did not finish within COG_SETUP_TIMEOUT=%gs"
            log.warning(message, worker.index, late, timeout)
            worker.kill()

    def _fail_setup(self, error: str) -> None:
        if self._setup.status != "starting":
            return
        self._setup.status = "failed"
        self._setup.completed_at = now()
        self._setup.logs.append(error + "\n")
        self._setup_done.set()
        self._loaded.set()
        self._stopping = True
        for worker in self._workers:
            worker.kill()

    # Listener: what workers report

    def on_loaded(self, message: Loaded) -> None:
        if message.signature is None:
            self.load_error = message.error
            self._fail_setup(f"cannot load the model: {message.error}")
            return
        self._loaded.set()
        if self._signature is None:
            self._signature = message.signature
            if message.concurrency is not None and not self._capacity_fixed:
                self._capacity = message.concurrency
            self._file_inputs = has_file_inputs(message.signature)
            extra = 0 if message.signature.is_async else self._capacity - 1
            for index in range(1, 1 + extra):
                self._spawn(index)

    def on_setup_log(self, worker: Worker, message: Log) -> None:
        # N workers print the same setup: health shows the first one's, once.
        # print()ed text reaches us unencoded: it may hold lone surrogates, which no JSON
        # response could carry.
        data = printable(message.data)
        if self._setup.status == "starting" and worker.index == 0:
            self._setup.logs.append(data)
        elif self._setup.status == "starting":
            self._other_logs.setdefault(worker.index, []).append(data)
        # Later output of no prediction (a background thread) only goes where the worker
        # already wrote all of it: the server's own stdout/stderr (runtime/worker/_capture.py).

    def on_setup_done(self, worker: Worker, message: SetupDone) -> None:
        if message.error is not None:
            self._setup.logs.extend(self._other_logs.get(worker.index, []))
            self._fail_setup(f"setup failed: {message.error}")
            return
        self._has_healthcheck = message.has_healthcheck
        lanes = self._capacity if self._signature and self._signature.is_async else 1
        self._free.extend([worker] * lanes)
        self._pump()
        if self._setup.status == "starting":
            self._setup_pending -= 1
            if self._setup_pending == 0:
                self._setup.status = "succeeded"
                self._setup.completed_at = now()
                self._setup_done.set()

    def on_prediction_message(self, message: Log | Output | Metric | Done) -> None:
        job = self._jobs.get(message.id)  # type: ignore[arg-type]
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
        for job in [j for j in self._jobs.values() if j.worker is worker]:
            self._release(job)
            if job.prediction.cancel_requested:
                status, error = Status.CANCELED, None
            else:
                status = Status.FAILED
                error = f"the worker process running this prediction {how_it_ended(code)}"
            job.finish(Done(job.prediction.id, status, None, error, {}, job.elapsed()))
        self._stopping = self._stopping or stopping
        if self._stopping or self._setup.status != "succeeded":
            if self._setup.status == "starting":
                self._fail_setup(f"the worker process {how_it_ended(code)} during setup")
            return
        if worker.index < len(self._workers) and self._workers[worker.index] is worker:
            if not worker.ever_ready or not self._replacements.allow():
                self._mark_defunct(worker)
                return
            log.warning("worker %d exited (code %s); starting a replacement", worker.index, code)
            self._spawn(worker.index)

    def on_lane_free(self, worker: Worker) -> None:
        if worker.alive:
            self._free.append(worker)
            self._pump()

    def _mark_defunct(self, worker: Worker) -> None:
        worker.dead = True
        if all(w.dead for w in self._workers):
            self._defunct = True
            self.became_defunct.set()
            for job in list(self._jobs.values()):
                self._release(job)
                job.finish(
                    Done(job.prediction.id, Status.FAILED, None, "the model is defunct", {}, 0.0)
                )

    # Predictions

    def try_admit(self, make: Callable[[], Prediction]) -> Job | None:
        """Take a slot for the prediction ``make()`` builds; None when every slot is busy."""
        if self._busy >= self._capacity:
            return None  # before building anything: under load, most requests end here
        self._busy += 1
        prediction = make()
        send, receive = trio.open_memory_channel["tuple[int, object]"](math.inf)
        job = Job(prediction, prediction.request.kwargs, send, receive)
        self._jobs[prediction.id] = job
        return job

    def dispatch(self, job: Job, fetched: dict[str, object] | None = None) -> None:
        """Hand an admitted job to a worker: the one place that decides when it goes.

        A model with file inputs gets its job once ``fetched`` (the inputs with their
        URLs fetched) is given; any other at the first call. A job that already went, or
        already ended (canceled, its inputs unfetchable), stays where it is.
        """
        if job.dispatched or job.result is not None:
            return
        if fetched is not None:
            job.kwargs = fetched
        elif self._file_inputs:
            return
        job.dispatched = True
        self._queue.append(job)
        self._pump()

    def abandon(self, job: Job, done: Done) -> None:
        """Finish a job that never reached a worker (its inputs could not be fetched)."""
        self._release(job)
        job.finish(done)

    def _release(self, job: Job) -> None:
        if self._jobs.pop(job.prediction.id, None) is not None:
            self._busy -= 1

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
            main_thread = self._signature is None or not self._signature.is_async
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
        for worker in self._workers:
            if worker.ready:
                return await worker.healthcheck(timeout)
        return HealthResult(ok=True)
