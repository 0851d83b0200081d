"""Worker processes as the supervisor sees them: start, talk over pipes, notice death."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import subprocess
import time
from collections.abc import Callable
from typing import Protocol

import trio

from cog.runtime._messages import (
    Cancel,
    CheckHealth,
    Done,
    FromWorker,
    HealthResult,
    Importing,
    Loaded,
    Log,
    Metric,
    Output,
    RunJob,
    SetupDone,
    ToWorker,
)
from cog.runtime._pipe import HEADER, encode
from cog.runtime._spawn import Prestarted, WorkerSpec, spawn

log = logging.getLogger("cog.runtime")


class _Process(Protocol):
    """What we use of a child process."""

    @property
    def returncode(self) -> int | None: ...
    def kill(self) -> None: ...
    async def wait(self) -> int: ...


class _Adopted:
    """A worker started with plain subprocess (cog.runtime._spawn), waited on like trio does."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen

    @property
    def returncode(self) -> int | None:
        return self._popen.poll()

    def kill(self) -> None:
        self._popen.kill()

    async def wait(self) -> int:
        if self._popen.poll() is None:
            try:
                pidfd = os.pidfd_open(self._popen.pid)
            except (AttributeError, OSError):  # no pidfd: poll, as a last resort
                while self._popen.poll() is None:
                    await trio.sleep(0.05)
            else:
                try:
                    await trio.lowlevel.wait_readable(pidfd)
                finally:
                    trio.lowlevel.notify_closing(pidfd)
                    os.close(pidfd)
        return self._popen.wait()


class Listener:
    """What a worker reports, routed by the pool."""

    def on_loaded(self, message: Loaded) -> None: ...
    def on_setup_log(self, worker: Worker, message: Log) -> None: ...
    def on_setup_done(self, worker: Worker, message: SetupDone) -> None: ...
    def on_prediction_message(self, message: Log | Output | Metric | Done) -> None: ...
    def on_lane_free(self, worker: Worker) -> None: ...
    def on_exit(self, worker: Worker, code: int | None, *, stopping: bool) -> None: ...


class Worker:
    """One worker process: jobs go out with ``start``; its Done frees the lane again."""

    def __init__(
        self, spec: WorkerSpec, listener: Listener, index: int, prestarted: Prestarted | None = None
    ) -> None:
        self.spec = spec
        self.index = index
        self._listener = listener
        self._prestarted = prestarted
        self._process: _Process | None = None
        self._control: _Outgoing | None = None  # Cancel, CheckHealth (and an async model's jobs)
        self._jobs: _Outgoing | None = None  # a sync model's jobs, read by its main thread
        self.pending: set[str] = set()  # jobs sent and not yet Done
        self.alive = False
        self.ready = False
        self.ever_ready = False
        self.became_ready = trio.Event()
        self.importing = trio.Event()  # its runtime is up, the model's import began
        self.importing_since = 0.0
        self.loaded = False  # the model imported
        self.dead = False
        self.started = 0.0  # time.monotonic() when its process started
        self._health: trio.MemorySendChannel[HealthResult] | None = None
        self._health_lock = trio.Lock()
        # Answers still to come to healthchecks that timed out: each CheckHealth gets
        # exactly one, and a late one must not pass for the answer to a later check.
        self._late_health = 0

    async def run_process(
        self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Start the process and read its messages until it exits."""
        prestarted, self._prestarted = self._prestarted, None
        if prestarted is None:
            try:
                # In this thread, not one of trio's: see cog.runtime._spawn.
                prestarted = spawn(self.spec)
            except OSError as exc:
                log.error("cannot start a worker process: %s", exc)
                task_status.started()
                self._listener.on_exit(self, None, stopping=False)
                return
        self.started = prestarted.started
        self._process = _Adopted(prestarted.process)
        fds = prestarted.to_worker, prestarted.jobs, prestarted.from_worker
        self._control = _Outgoing(fds[0], self.kill)
        self._jobs = _Outgoing(fds[1], self.kill)
        reader = TrioReader(trio.lowlevel.FdStream(fds[2]))
        self.alive = True
        task_status.started()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._control.flush_forever)
                nursery.start_soon(self._jobs.flush_forever)
                await self._read(reader)
                nursery.cancel_scope.cancel()
        finally:
            self.alive = False
            self.ready = False
            # Canceled: the server is stopping, so the pool must not replace this worker.
            stopping = trio.current_effective_deadline() == float("-inf")
            with trio.CancelScope(shield=True):
                code = await self._reap()
            self.pending.clear()
            self._listener.on_exit(self, code, stopping=stopping)

    async def _reap(self) -> int | None:
        process = self._process
        if process is None:
            return None
        for outgoing in (self._control, self._jobs):
            if outgoing is not None:
                await outgoing.stream.aclose()
        if process.returncode is None:
            with trio.move_on_after(2):
                return await process.wait()
            process.kill()
        return await process.wait()

    async def _read(self, reader: TrioReader) -> None:
        listener = self._listener
        while True:
            message = await reader.receive()
            if message is None:
                return
            self._dispatch(message, listener)  # type: ignore[arg-type]

    def _dispatch(self, message: FromWorker, listener: Listener) -> None:
        if isinstance(message, (Log, Output, Metric)):
            if message.id is None:
                listener.on_setup_log(self, message)
            else:
                listener.on_prediction_message(message)
        elif isinstance(message, Done):
            listener.on_prediction_message(message)
            if message.id in self.pending:
                self.pending.discard(message.id)
                listener.on_lane_free(self)
        elif isinstance(message, HealthResult):
            if self._late_health:
                self._late_health -= 1
            elif self._health is not None:
                self._health.send_nowait(message)
        elif isinstance(message, Loaded):
            self.loaded = message.signature is not None
            listener.on_loaded(message)
        elif isinstance(message, Importing):
            self.importing_since = time.monotonic()
            self.importing.set()
        elif isinstance(message, SetupDone):
            self.ready = message.error is None
            self.ever_ready = self.ever_ready or self.ready
            if self.ready:
                self.became_ready.set()
            listener.on_setup_done(self, message)

    def send_nowait(self, message: ToWorker) -> None:
        if self._control is not None and self.alive:
            self._control.send_nowait(encode(message))

    async def send(self, message: ToWorker) -> None:
        self.send_nowait(message)
        await trio.lowlevel.checkpoint()

    def start(self, job: RunJob, *, main_thread: bool) -> None:
        """Send a job; the listener hears ``on_lane_free`` when its Done arrives.

        ``main_thread``: a sync model's job, on the pipe its main thread reads itself (no
        hop through the worker's control thread); an async model's go with the rest.
        """
        outgoing = self._jobs if main_thread else self._control
        if outgoing is None or not self.alive:
            return
        self.pending.add(job.id)
        outgoing.send_nowait(encode(job))

    async def cancel(self, job_id: str) -> None:
        await self.send(Cancel(job_id))

    async def healthcheck(self, timeout: float) -> HealthResult:
        async with self._health_lock:
            send, receive = trio.open_memory_channel[HealthResult](1)
            self._health = send
            try:
                await self.send(CheckHealth())
                with trio.move_on_after(timeout):
                    return await receive.receive()
                with contextlib.suppress(trio.WouldBlock):
                    return receive.receive_nowait()  # it came just as the time ran out
                # The reference's words (and its one decimal: "after 5.0 seconds").
                error = "Healthcheck failed: user-defined healthcheck timed out after"
                error += f" {timeout:.1f} seconds"
                self._late_health += 1
                return HealthResult(ok=False, error=error)
            finally:
                self._health = None

    def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.kill()


class _Outgoing:
    """A pipe to the worker: frames go straight into it (it is non-blocking); what a full
    pipe refuses waits here, in order, for ``flush_forever``."""

    def __init__(self, fd: int, on_broken: Callable[[], None]) -> None:
        self.stream = trio.lowlevel.FdStream(fd)
        self._on_broken = on_broken
        self._outbox = bytearray()
        self._flushing = False
        self._ready = trio.Event()

    def send_nowait(self, data: bytes) -> None:
        if self._outbox or self._flushing:
            self._outbox += data  # earlier frames first
            return
        try:
            written = os.write(self.stream.fileno(), data)
        except BlockingIOError:
            written = 0
        except OSError:
            self._on_broken()  # the reader notices the end and reports the exit
            return
        if written < len(data):
            self._outbox += data[written:]
            self._ready.set()

    async def flush_forever(self) -> None:
        while True:
            await self._ready.wait()
            self._ready = trio.Event()
            while self._outbox:
                data = bytes(self._outbox)
                self._outbox.clear()
                self._flushing = True
                try:
                    await self.stream.send_all(data)
                except (trio.BrokenResourceError, trio.ClosedResourceError, OSError):
                    self._on_broken()
                    return
                finally:
                    self._flushing = False


class TrioReader:
    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def receive(self) -> object | None:
        """The next message, or None at end of stream."""
        while True:
            if len(self._buffer) >= HEADER.size:
                (size,) = HEADER.unpack_from(self._buffer)
                end = HEADER.size + size
                if len(self._buffer) >= end:
                    body = bytes(self._buffer[HEADER.size : end])
                    del self._buffer[:end]
                    message: object = pickle.loads(body)  # noqa: S301 (our worker's pipe)
                    return message
            chunk = await self._stream.receive_some(65536)
            if not chunk:
                return None
            self._buffer += chunk
