"""The server's model of the world: pools, running predictions, health, shutdown."""

from __future__ import annotations

import logging
import platform
import shutil
import tempfile
from functools import partial

import trio

from cog._sdk.useragent import get_user_agent
from cog._signature.model import Mode, OutputKind
from cog._version import __version__
from cog.runtime._file_transfer import (
    Fetcher,
    FileEncoder,
    InputFileError,
    Uploader,
    UploadError,
    contains_file,
    data_url,
    fetch_inputs,
    resolve_files,
)
from cog.runtime._messages import Done, OutputFile, Status
from cog.runtime._pool import AtCapacity, Job, Pool, PoolStatus
from cog.runtime._prediction import Prediction, Request
from cog.runtime._spawn import Prestarted, WorkerSpec
from cog.runtime._user_health import UserHealth
from cog.runtime._webhooks import send_webhooks
from cog.runtime.settings import Settings

log = logging.getLogger("cog.runtime")

_ITERATORS = (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR)


class Service:
    def __init__(
        self, settings: Settings, python: str, prestarted: Prestarted | None = None
    ) -> None:
        self.settings = settings
        self.pools: dict[Mode, Pool] = {}
        for mode, ref in ((Mode.PREDICT, settings.predict_ref), (Mode.TRAIN, settings.train_ref)):
            if ref:
                spec = WorkerSpec(str(settings.project_dir), ref, mode, settings.weights, python)
                capacity = settings.max_concurrency if mode is Mode.PREDICT else 1
                fixed = mode is Mode.TRAIN or settings.concurrency_from_env
                adopt = prestarted if prestarted is not None and prestarted.spec == spec else None
                self.pools[mode] = Pool(
                    spec, capacity, settings.setup_timeout, settings.cancel_grace, adopt,
                    replacements=(settings.max_replacements, settings.replacement_window),
                    capacity_fixed=fixed, setup_error=settings.setup_error,
                )  # fmt: skip
        self._user_health = {mode: UserHealth(pool) for mode, pool in self.pools.items()}
        self.fetcher = Fetcher(
            settings.user_agent or get_user_agent(),
            settings.download_timeout,
            settings.max_input_file_bytes,
        )
        self.accepting = True
        self.draining = trio.Event()  # set once: no new predictions from then on
        self._active = 0  # predictions started and not yet answered (outputs included)
        self._webhooks = 0  # webhook senders still delivering (completed retries included)
        self.idle = trio.Event()  # set while both are 0: a shutdown drain waits for it
        self.idle.set()
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for pool in self.pools.values():
                await nursery.start(pool.run)
            task_status.started()

    async def wait_setup(self) -> None:
        for pool in self.pools.values():
            await pool.wait_setup()

    def stop(self) -> None:
        for pool in self.pools.values():
            pool.stop()

    @property
    def primary_pool(self) -> Pool | None:
        """The pool whose state /health-check (and the readiness file) report."""
        return self.pools.get(Mode.PREDICT) or self.pools.get(Mode.TRAIN)

    def stop_accepting(self) -> None:
        """Refuse new predictions from now on; running ones go on (shutdown drain)."""
        self.accepting = False
        self.draining.set()

    @property
    def running(self) -> int:
        return self._active

    def cancel_all(self) -> None:
        """Cancel every admitted prediction (the shutdown grace period has passed)."""
        assert self._nursery is not None
        for pool in self.pools.values():
            for job in pool.admitted():
                self._nursery.start_soon(pool.cancel, job)

    # predictions

    def find(self, prediction_id: str) -> tuple[Pool, Job] | None:
        for pool in self.pools.values():
            job = pool.find(prediction_id)
            if job is not None:
                return pool, job
        return None

    def start(self, pool: Pool, request: Request, *, dispatch_now: bool = True) -> Prediction:
        """Admit and start a prediction (raises AtCapacity when every slot is busy).

        ``dispatch_now``: hand it to a worker before returning (its status may then be
        "processing" already); otherwise a scheduler round later, so that the caller sees
        it "starting".
        """
        job = pool.try_admit(partial(Prediction, request, self.settings.stream_history_capacity))
        if job is None:
            raise AtCapacity
        prediction = job.prediction
        assert pool.signature is not None
        if pool.signature.output.kind in _ITERATORS:
            prediction.chunks = []
        elif not pool.file_inputs:  # fetched inputs are removed before the response
            job.on_finish = partial(_complete_plain, prediction)
        self._active += 1
        self.idle = trio.Event() if self.idle.is_set() else self.idle
        assert self._nursery is not None
        self._nursery.start_soon(self._execute, pool, job)
        if request.webhook:
            self._webhooks += 1
            self._nursery.start_soon(self._deliver, prediction, prediction.to_json())
        if dispatch_now:
            pool.dispatch(job)  # or, with file inputs, once _execute has fetched them
        return prediction

    async def _deliver(self, prediction: Prediction, start_body: dict[str, object]) -> None:
        s = self.settings
        try:
            await send_webhooks(
                prediction, start_body, s.throttle_interval, s.webhook_retries, s.webhook_backoff
            )
        finally:
            self._webhooks -= 1
            self._maybe_idle()

    def _maybe_idle(self) -> None:
        if self._active == 0 and self._webhooks == 0:
            self.idle.set()

    async def cancel(self, prediction_id: str) -> bool:
        found = self.find(prediction_id)
        if found is None:
            return False
        pool, job = found
        assert self._nursery is not None
        self._nursery.start_soon(pool.cancel, job)
        return True

    def _encoder(self, request: Request) -> FileEncoder:
        prefix = request.output_file_prefix or self.settings.upload_url
        if prefix:
            return Uploader(prefix, self.settings.upload_timeout)
        return data_url

    async def _execute(self, pool: Pool, job: Job) -> None:
        prediction = job.prediction
        workdir: str | None = None
        encoder = self._encoder(prediction.request)
        try:
            kwargs = job.kwargs
            assert pool.signature is not None
            if pool.file_inputs:
                try:
                    workdir = tempfile.mkdtemp(prefix="cog-inputs-")
                    # Returns early when the job is canceled (finished) meanwhile.
                    kwargs = await fetch_inputs(
                        pool.signature, kwargs, self.fetcher, workdir, job.finished
                    )
                except InputFileError as exc:  # fails the prediction, as the reference's
                    pool.abandon(
                        job, Done(prediction.id, Status.FAILED, None, exc.message, {}, 0.0)
                    )
                except OSError as exc:  # no folder for the inputs (a full temp disk)
                    message = f"cannot make a folder for the input files: {exc.strerror or exc}"
                    pool.abandon(job, Done(prediction.id, Status.FAILED, None, message, {}, 0.0))
            pool.dispatch(job, kwargs if pool.file_inputs else None)
            async for index, chunk in job.chunk_receive:
                prediction.add_chunk(index, await _resolve(chunk, encoder, index))
            await job.finished.wait()
            if prediction.done.is_set():
                return  # completed as its result arrived (_complete_plain)
            done = job.result
            assert done is not None
            output, status, error = done.output, done.status.value, done.error
            try:
                output = await _resolve(output, encoder, None)
            except UploadError as exc:
                output, status, error = None, Status.FAILED.value, str(exc)
            prediction.complete(status, output, error, done.metrics, done.predict_time)
        except UploadError as exc:
            prediction.complete(Status.FAILED.value, None, str(exc), {}, None)
        finally:
            job.chunk_receive.close()
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)
            self._active -= 1
            self._maybe_idle()

    # health

    async def health(self) -> dict[str, object]:
        pool = self.primary_pool
        body: dict[str, object] = {"status": "READY"}
        if pool is None:
            body["status"] = "SETUP_FAILED"
        else:
            body["status"] = await self._status(pool, body)
            body["setup"] = pool.setup_report()
        # The reference's keys: its runtime ("coglet", this runtime here), the SDK, Python.
        body["version"] = {
            "coglet": __version__,
            "python_sdk": __version__,
            "python": platform.python_version(),
        }
        return body

    async def _status(self, pool: Pool, body: dict[str, object]) -> str:
        status = pool.status()
        # As the reference: the model's healthcheck() runs while it is READY (BUSY says
        # enough), on every request; see _user_health.
        if status is PoolStatus.READY and pool.has_healthcheck:
            assert self._nursery is not None
            result = await self._user_health[pool.mode].check(self._nursery)
            if not result.ok:
                body["user_healthcheck_error"] = result.error
                return "UNHEALTHY"
        return status.value


def _complete_plain(prediction: Prediction, done: Done) -> None:
    """Complete a prediction whose output holds no file, as soon as its result arrives."""
    if not contains_file(done.output):
        prediction.complete(
            done.status.value, done.output, done.error, done.metrics, done.predict_time
        )


async def _resolve(value: object, encoder: FileEncoder, index: int | None) -> object:
    if not contains_file(value):
        return value
    if index is not None and isinstance(value, OutputFile):
        name = f"output.{index}{_suffix(value.path)}"
        return await trio.to_thread.run_sync(encoder, value, name, abandon_on_cancel=True)
    # Abandoned at shutdown: an upload's own deadline ends its thread (Uploader).
    return await trio.to_thread.run_sync(resolve_files, value, encoder, abandon_on_cancel=True)


def _suffix(path: str) -> str:
    import pathlib  # noqa: PLC0415

    return pathlib.PurePath(path).suffix
