"""The typed messages supervisor and workers exchange over their pipes (pickled, small)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cog._signature.model import Signature


class _Frame:
    """Pickled as (class, field values): about half the default's cost for a slots
    dataclass (its __getstate__/__setstate__ pair), on the per-prediction path."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        names: tuple[str, ...] = self.__slots__
        return (type(self), tuple([getattr(self, name) for name in names]))


class Status(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# supervisor -> worker


@dataclass(frozen=True, slots=True)
class RunJob(_Frame):
    id: str
    inputs: dict[str, object]  # validated; file inputs are local paths
    context: dict[str, str] | None = None  # the request's "context", for current_scope()


@dataclass(frozen=True, slots=True)
class Cancel(_Frame):
    id: str


@dataclass(frozen=True, slots=True)
class CheckHealth(_Frame):
    pass


# worker -> supervisor


@dataclass(frozen=True, slots=True)
class Importing(_Frame):
    """The worker's own startup is over: it imports the model now (COG_SETUP_TIMEOUT's
    clock starts here)."""


@dataclass(frozen=True, slots=True)
class Loaded(_Frame):
    """The model imported (signature set) or failed to import (error set)."""

    signature: Signature | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SetupDone(_Frame):
    error: str | None  # None: setup succeeded
    has_healthcheck: bool = False


@dataclass(frozen=True, slots=True)
class Log(_Frame):
    id: str | None  # None: printed outside any prediction (setup)
    source: str  # "stdout" or "stderr"
    data: str


@dataclass(frozen=True, slots=True)
class Output(_Frame):
    """One chunk yielded by an iterator output."""

    id: str
    index: int
    value: object


@dataclass(frozen=True, slots=True)
class Metric(_Frame):
    id: str
    name: str
    value: object
    mode: str


@dataclass(frozen=True, slots=True)
class Done(_Frame):
    id: str
    status: Status
    output: object  # a single output (None for iterators, whose chunks came as Output)
    error: str | None
    metrics: dict[str, object]
    predict_time: float


@dataclass(frozen=True, slots=True)
class HealthResult(_Frame):
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class OutputFile(_Frame):
    """A file in an output, by its path in the worker's filesystem (shared with us)."""

    path: str
    remove: bool = False  # written by the worker from a file object: delete once sent


ToWorker = RunJob | Cancel | CheckHealth
FromWorker = Importing | Loaded | SetupDone | Log | Output | Metric | Done | HealthResult
