"""Running predictions inside a worker: sync models on the main thread, async on asyncio."""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import threading
import time
import traceback
import typing
from collections.abc import Callable
from types import FrameType
from typing import Any

from cog._sdk.scope import prediction_scope
from cog._signature.model import OutputKind, Primitive, Signature
from cog.exceptions import CancelationException
from cog.runtime._messages import Done, Metric, Output, RunJob, Status, printable
from cog.runtime._pipe import BlockingReader, BlockingWriter
from cog.runtime.worker._capture import Capture, attribution, current_prediction
from cog.runtime.worker._encode import encode_output

_ITERATORS = (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR)
Setup = typing.Callable[[], object]
Failed = typing.Callable[[BaseException], None]


async def _awaited(awaitable: Any) -> None:
    await awaitable


FileMakers = typing.Tuple["tuple[str, Callable[[object], object]]", ...]  # noqa: UP006 (3.8)


def file_makers(signature: Signature) -> FileMakers:
    """For each file input: its name and how to turn a local path into what run() expects."""
    return tuple(
        (spec.name, _as_path if spec.type.primitive is Primitive.PATH else _as_file)
        for spec in signature.inputs
        if spec.type.primitive is not None and spec.type.primitive.is_file
    )


def convert_inputs(makers: FileMakers, inputs: dict[str, object]) -> dict[str, object]:
    """File inputs arrive as local paths: make them cog.Path objects (or open files)."""
    if not makers:
        return inputs
    converted = dict(inputs)
    for name, make in makers:
        value = converted.get(name)
        if value is not None:
            converted[name] = [make(v) for v in value] if isinstance(value, list) else make(value)
    return converted


def _as_path(value: object) -> object:
    from cog._sdk.value_types import Path  # noqa: PLC0415

    return Path(str(value))


def _as_file(value: object) -> object:
    return open(str(value), "rb")


class _Base:
    def __init__(
        self,
        signature: Signature,
        method: Callable[..., Any],
        writer: BlockingWriter,
        capture: Capture,
    ) -> None:
        self._signature = signature
        self._method = method
        self._writer = writer
        self._capture = capture
        self._streams = signature.output.kind in _ITERATORS
        self._makers = file_makers(signature)

    def _metric_sender(self, job_id: str) -> Callable[[str, object, str], None]:
        send = self._writer.send
        return lambda name, value, mode: send(Metric(job_id, name, value, mode))

    def _finish(
        self,
        job: RunJob,
        *,
        status: Status,
        output: object,
        error: str | None,
        metrics: dict[str, object],
        started: float,
    ) -> None:
        predict_time = time.perf_counter() - started
        if error is not None:
            error = printable(error)  # the model's message may hold a lone surrogate
        self._writer.send(Done(job.id, status, output, error, metrics, predict_time))


class SyncRunner(_Base):
    """One prediction at a time on the main thread; canceled by SIGUSR1 from our control thread.

    The main thread reads its jobs from their own pipe: no hop through another thread.
    """

    def __init__(self, *args: Any, jobs: BlockingReader, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._jobs = jobs
        self._armed: str | None = None
        self._canceled: set[str] = set()
        self._main = threading.get_ident()
        signal.signal(signal.SIGUSR1, self._on_signal)

    def cancel(self, job_id: str) -> None:
        self._canceled.add(job_id)
        if self._armed == job_id:
            signal.pthread_kill(self._main, signal.SIGUSR1)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        armed = self._armed
        if armed is None or armed not in self._canceled:
            return  # a cancel that arrived after its prediction finished
        if self._writer.main_busy:
            self._writer.deferred = CancelationException()
            return
        raise CancelationException

    def serve(self, setup: Setup, ready: Callable[[], None], failed: Failed) -> None:
        try:
            result = setup()
            if inspect.isawaitable(result):
                asyncio.run(_awaited(result))
        except BaseException as exc:  # noqa: BLE001 (reported as SETUP_FAILED)
            failed(exc)
            return
        ready()
        while True:
            job = self._jobs.receive()
            if job is None:
                os._exit(0)  # the supervisor is gone (the control thread exits too)
            assert isinstance(job, RunJob)
            self._run(job)

    def _run(self, job: RunJob) -> None:
        attribution.running.append(job.id)
        token = current_prediction.set(job.id)
        status, output, error, metrics = Status.SUCCEEDED, None, None, {}
        started = time.perf_counter()
        try:
            with prediction_scope(self._metric_sender(job.id), context=job.context) as scope:
                try:
                    output = self._call(job)
                except CancelationException:
                    status = Status.CANCELED
                except (Exception, SystemExit) as exc:  # noqa: BLE001 (the model's failure)
                    status, error = Status.FAILED, failure(exc)
                    traceback.print_exc()
                metrics = scope.metrics_json()
        finally:
            # Drain while the raw fd writes can still be attributed to this prediction.
            self._capture.finish(job.id)
            attribution.running.remove(job.id)
            current_prediction.reset(token)
            self._canceled.discard(job.id)
        self._finish(
            job, status=status, output=output, error=error, metrics=metrics, started=started
        )

    def _call(self, job: RunJob) -> object:
        kwargs = convert_inputs(self._makers, job.inputs)
        self._armed = job.id
        try:
            if job.id in self._canceled:
                raise CancelationException
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
            result = self._method(**kwargs)
            if self._streams:
                for index, chunk in enumerate(result):
                    self._writer.send(Output(job.id, index, encode_output(chunk)))
                return None
            if inspect.isgenerator(result):
                result = list(result)
            return encode_output(result)
        finally:
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            self._armed = None
            _close_files(kwargs)


class AsyncRunner(_Base):
    """Up to concurrency.max predictions at once, as tasks on one asyncio loop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._tasks: dict[str, asyncio.Future[object]] = {}

    def serve(self, setup: Setup, ready: Callable[[], None], failed: Failed) -> None:
        asyncio.run(self._main(setup, ready, failed))

    async def _main(self, setup: Setup, ready: Callable[[], None], failed: Failed) -> None:
        # setup() runs on the loop the predictions will use: what it creates (clients,
        # sessions) stays usable.
        self._loop = asyncio.get_running_loop()
        try:
            result = setup()
            if inspect.isawaitable(result):
                await result
        except BaseException as exc:  # noqa: BLE001 (reported as SETUP_FAILED)
            failed(exc)
            return
        ready()
        self._ready.set()
        await asyncio.Event().wait()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    def submit(self, job: RunJob) -> None:
        self._ready.wait()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._start, job)

    def cancel(self, job_id: str) -> None:
        self._ready.wait()
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._cancel, job_id)

    def _start(self, job: RunJob) -> None:
        self._tasks[job.id] = asyncio.ensure_future(self._run(job))

    def _cancel(self, job_id: str) -> None:
        task = self._tasks.get(job_id)
        if task is not None:
            task.cancel()

    async def _run(self, job: RunJob) -> None:
        token = current_prediction.set(job.id)
        attribution.running.append(job.id)
        status, output, error, metrics = Status.SUCCEEDED, None, None, {}
        started = time.perf_counter()
        try:
            with prediction_scope(self._metric_sender(job.id), context=job.context) as scope:
                kwargs = convert_inputs(self._makers, job.inputs)
                # The user's code runs in its own task, so that a cancel that arrives
                # before it starts still lands inside our try.
                inner = asyncio.ensure_future(self._invoke(job.id, kwargs))
                self._tasks[job.id] = inner
                try:
                    output = await inner
                except asyncio.CancelledError:
                    status = Status.CANCELED
                except Exception as exc:  # noqa: BLE001 (the model's failure, reported)
                    status, error = Status.FAILED, failure(exc)
                    traceback.print_exc()
                finally:
                    _close_files(kwargs)
                metrics = scope.metrics_json()
        finally:
            self._tasks.pop(job.id, None)
            # Drain while the raw fd writes can still be attributed to this prediction.
            self._capture.finish(job.id)
            attribution.running.remove(job.id)
            current_prediction.reset(token)
        self._finish(
            job, status=status, output=output, error=error, metrics=metrics, started=started
        )

    async def _invoke(self, job_id: str, kwargs: dict[str, object]) -> object:
        # asyncio lets SystemExit out of a task and its loop: it would end the worker.
        try:
            return await self._invoke_model(job_id, kwargs)
        except SystemExit as exc:
            raise ModelExited(exc) from exc

    async def _invoke_model(self, job_id: str, kwargs: dict[str, object]) -> object:
        result = self._method(**kwargs)
        if inspect.isawaitable(result):
            result = await result
        if self._streams:
            index = 0
            if hasattr(result, "__aiter__"):
                async for chunk in result:
                    self._writer.send(Output(job_id, index, encode_output(chunk)))
                    index += 1
            else:
                for chunk in result:
                    self._writer.send(Output(job_id, index, encode_output(chunk)))
                    index += 1
            return None
        if hasattr(result, "__aiter__"):
            return encode_output([chunk async for chunk in result])
        if inspect.isgenerator(result):
            result = list(result)
        return encode_output(result)


class ModelExited(Exception):  # noqa: N818 (it reports the model's SystemExit)
    """sys.exit() in an async model's run(), carried as an Exception out of its task."""

    def __init__(self, exited: SystemExit) -> None:
        super().__init__(failure(exited))


def failure(exc: BaseException) -> str:
    """A failed prediction's error: the exception's message; SystemExit named as such.

    ``sys.exit(1)`` in run() fails that prediction with "SystemExit: 1" (the worker goes
    on serving), where the message alone ("1") would say nothing.
    """
    if isinstance(exc, ModelExited):
        return str(exc)
    text = str(exc)
    if isinstance(exc, SystemExit):
        return f"SystemExit: {text}" if text else "SystemExit"
    return text or type(exc).__name__


def _close_files(kwargs: dict[str, object]) -> None:
    for value in kwargs.values():
        for item in value if isinstance(value, list) else (value,):
            close = getattr(item, "close", None)
            if callable(close) and hasattr(item, "read"):
                close()
