"""Pool on its own: status, admission, dispatch and replacement, with fake workers (no
processes): each test drives what a worker would report through the Listener calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
import trio
import trio.testing

from cog._signature.model import FieldType, InputSpec, Mode, OutputSpec, Primitive, Signature
from cog.runtime._messages import Done, HealthResult, Loaded, RunJob, SetupDone, Status
from cog.runtime._pool import Pool, PoolStatus
from cog.runtime._prediction import Prediction, Request
from cog.runtime._spawn import Prestarted, WorkerSpec
from cog.runtime._worker_proxy import Listener, Worker

pytestmark = pytest.mark.unit

SPEC = WorkerSpec("/nowhere", "run.py:Runner", Mode.PREDICT, None, "python3")


def signature(*, is_async: bool = False) -> Signature:
    return Signature(Mode.PREDICT, (), OutputSpec(FieldType(Primitive.STRING)), is_async=is_async)


class FakeWorker:
    """What Pool uses of a Worker; the test says what the worker reports, and when."""

    def __init__(self, listener: Listener, index: int) -> None:
        self.listener = listener
        self.index = index
        self.alive = False
        self.ready = False
        self.ever_ready = False
        self.dead = False
        self.loaded = False
        self.became_ready = trio.Event()
        self.importing = trio.Event()
        self.importing_since = 0.0
        self.jobs: list[RunJob] = []
        self.canceled: list[str] = []
        self.exit_code: int | None = None
        self._exited = trio.Event()

    async def run_process(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        self.alive = True
        task_status.started()
        await self._exited.wait()
        self.alive = self.ready = False
        self.listener.on_exit(cast(Worker, self), self.exit_code, stopping=False)

    def set_up(
        self, sig: Signature, *, error: str | None = None, concurrency: int | None = None
    ) -> None:
        self.loaded = True
        self.listener.on_loaded(Loaded(sig, concurrency=concurrency))
        self.ready = self.ever_ready = error is None
        self.listener.on_setup_done(cast(Worker, self), SetupDone(error))

    def start(self, job: RunJob, *, main_thread: bool) -> None:
        self.jobs.append(job)

    def finish(self, job_id: str, output: object = "done") -> None:
        done = Done(job_id, Status.SUCCEEDED, output, None, {}, 0.01)
        self.listener.on_prediction_message(done)
        self.listener.on_lane_free(cast(Worker, self))

    async def cancel(self, job_id: str) -> None:
        self.canceled.append(job_id)

    async def healthcheck(self, timeout: float) -> HealthResult:
        return HealthResult(ok=True)

    def kill(self) -> None:
        self.exit_code = -9
        self._exited.set()


class Harness:
    def __init__(
        self,
        capacity: int = 1,
        replacements: tuple[int, float] = (10, 60.0),
        capacity_fixed: bool = False,
    ) -> None:
        self.workers: list[FakeWorker] = []
        self.pool = Pool(
            SPEC, capacity, None, 1.0, replacements=replacements, worker_factory=self._make,
            capacity_fixed=capacity_fixed,
        )  # fmt: skip

    def _make(
        self, spec: WorkerSpec, listener: Listener, index: int, prestarted: Prestarted | None
    ) -> Worker:
        worker = FakeWorker(listener, index)
        self.workers.append(worker)
        return cast(Worker, worker)

    def admit(self, prediction_id: str) -> Any:
        request = Request(id=prediction_id, mode=Mode.PREDICT, input={}, kwargs={})
        return self.pool.try_admit(lambda: Prediction(request, 16))


def run(test: Callable[[Harness, trio.Nursery], Awaitable[None]], **options: Any) -> None:
    async def main() -> None:
        harness = Harness(**options)
        async with trio.open_nursery() as nursery:
            await nursery.start(harness.pool.run)
            await trio.testing.wait_all_tasks_blocked()  # the workers' processes "run"
            await test(harness, nursery)
            harness.pool.stop()

    trio.run(main)


def test_status_follows_setup_then_slots() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        assert h.pool.status() is PoolStatus.STARTING
        assert h.admit("early") is not None  # the status is the API's to refuse on
        h.workers[0].set_up(signature())
        assert h.pool.status() is PoolStatus.BUSY  # "early" holds the only slot
        job = h.pool.find("early")
        assert job is not None
        h.pool.dispatch(job)
        h.workers[0].finish("early")
        assert h.pool.status() is PoolStatus.READY
        assert h.pool.setup_report()["status"] == "succeeded"

    run(test)


def test_try_admit_refuses_past_capacity_without_building_the_prediction() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature(is_async=True))
        assert [h.admit(f"p{i}") is not None for i in range(2)] == [True, True]
        built: list[str] = []

        def make() -> Prediction:
            built.append("built")
            raise AssertionError("a full pool must not build the prediction")

        assert h.pool.try_admit(make) is None
        assert built == []
        assert h.pool.status() is PoolStatus.BUSY

    run(test, capacity=2)


def test_dispatch_starts_the_job_once_and_the_slot_frees_on_done() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature())
        job = h.admit("a")
        assert job.prediction.status == "starting"
        h.pool.dispatch(job)
        h.pool.dispatch(job)  # a second call changes nothing
        assert [j.id for j in h.workers[0].jobs] == ["a"]
        assert job.prediction.status == "processing"
        h.workers[0].finish("a", "out")
        assert job.result is not None
        assert job.result.output == "out"
        assert h.pool.find("a") is None
        assert h.pool.status() is PoolStatus.READY

    run(test)


def test_jobs_queue_for_a_lane_and_run_in_order() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature(is_async=True))  # one worker, two lanes
        jobs = [h.admit(name) for name in ("a", "b")]
        for job in jobs:
            h.pool.dispatch(job)
        assert [j.id for j in h.workers[0].jobs] == ["a", "b"]
        assert h.admit("c") is None
        h.workers[0].finish("a")
        third = h.admit("c")
        h.pool.dispatch(third)
        assert [j.id for j in h.workers[0].jobs] == ["a", "b", "c"]

    run(test, capacity=2)


def test_a_sync_model_gets_one_worker_per_slot() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature())
        assert len(h.workers) == 3
        await trio.testing.wait_all_tasks_blocked()
        assert h.pool.status() is PoolStatus.STARTING  # until every worker is set up
        for worker in h.workers[1:]:
            worker.set_up(signature())
        assert h.pool.status() is PoolStatus.READY

    run(test, capacity=3)


def test_setup_failure_is_setup_failed_with_its_error() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature(), error="RuntimeError: no weights")
        assert h.pool.status() is PoolStatus.SETUP_FAILED
        assert not h.pool.ready
        assert "no weights" in str(h.pool.setup_report()["logs"])

    run(test)


def test_cancel_before_dispatch_finishes_the_job_canceled() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature())
        job = h.admit("x")
        await h.pool.cancel(job)
        assert job.result is not None
        assert job.result.status is Status.CANCELED
        h.pool.dispatch(job)
        assert h.workers[0].jobs == []
        assert h.pool.status() is PoolStatus.READY

    run(test)


def test_a_dead_worker_fails_its_job_and_is_replaced() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature())
        job = h.admit("x")
        h.pool.dispatch(job)
        h.workers[0].kill()
        await job.finished.wait()
        assert job.result is not None
        assert job.result.status is Status.FAILED
        assert "killed by SIGKILL" in (job.result.error or "")
        await trio.testing.wait_all_tasks_blocked()
        assert len(h.workers) == 2  # the replacement
        await trio.testing.wait_all_tasks_blocked()
        h.workers[1].set_up(signature())
        assert h.pool.status() is PoolStatus.READY

    run(test)


def test_past_the_replacement_budget_the_pool_is_defunct() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature())
        h.workers[0].kill()
        await trio.testing.wait_all_tasks_blocked()
        assert h.pool.status() is PoolStatus.DEFUNCT
        assert h.pool.became_defunct.is_set()
        assert len(h.workers) == 1

    run(test, replacements=(0, 60.0))


def test_file_inputs_wait_for_their_fetched_kwargs() -> None:
    file_sig = Signature(
        Mode.PREDICT,
        (InputSpec("doc", FieldType(Primitive.PATH)),),
        OutputSpec(FieldType(Primitive.STRING)),
    )

    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(file_sig)
        assert h.pool.file_inputs
        job = h.admit("f")
        h.pool.dispatch(job)  # no fetched inputs yet: it waits
        assert h.workers[0].jobs == []
        h.pool.dispatch(job, {"doc": "/tmp/fetched"})
        assert [j.inputs for j in h.workers[0].jobs] == [{"doc": "/tmp/fetched"}]

    run(test)


def test_the_models_concurrent_max_sets_the_slots_unless_fixed() -> None:
    async def test(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature(is_async=True), concurrency=3)
        assert h.pool.capacity == 3
        assert [h.admit(f"p{i}") is not None for i in range(4)] == [True, True, True, False]

    async def fixed(h: Harness, nursery: trio.Nursery) -> None:
        h.workers[0].set_up(signature(is_async=True), concurrency=3)
        assert h.pool.capacity == 2  # COG_MAX_CONCURRENCY was given

    run(test)
    run(fixed, capacity=2, capacity_fixed=True)


def test_a_setup_error_fails_setup_without_a_worker() -> None:
    async def main() -> None:
        pool = Pool(SPEC, 1, None, 1.0, setup_error="cog.yaml: run.py does not exist")
        async with trio.open_nursery() as nursery:
            await nursery.start(pool.run)
            assert pool.status() is PoolStatus.SETUP_FAILED
            assert "run.py does not exist" in str(pool.setup_report()["logs"])
            assert pool.load_error == "cog.yaml: run.py does not exist"

    trio.run(main)
