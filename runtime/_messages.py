"""The typed messages supervisor and workers exchange over their pipes (pickled, small)."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Union

from cog._compat import SLOTS
from cog._signature.model import Signature


class _Frame:
    """Pickled as (class, field values): about half the default's cost for a slots
    dataclass (its __getstate__/__setstate__ pair), on the per-prediction path."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        names: tuple[str, ...] = self.__slots__ or _field_names(type(self))
        return (type(self), tuple([getattr(self, name) for name in names]))


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    # Python 3.8/3.9's dataclasses have no slots: the fields are the state.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


class Status(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# supervisor -> worker


@dataclass(frozen=True, **SLOTS)
class RunJob(_Frame):
    id: str
    inputs: dict[str, object]  # validated; file inputs are local paths
    context: dict[str, str] | None = None  # the request's "context", for current_scope()


@dataclass(frozen=True, **SLOTS)
class Cancel(_Frame):
    id: str


@dataclass(frozen=True, **SLOTS)
class CheckHealth(_Frame):
    pass


# worker -> supervisor


@dataclass(frozen=True, **SLOTS)
class Importing(_Frame):
    """The worker's own startup is over: it imports the model now (COG_SETUP_TIMEOUT's
    clock starts here)."""


@dataclass(frozen=True, **SLOTS)
class Loaded(_Frame):
    """The model imported (signature set) or failed to import (error set)."""

    signature: Signature | None
    error: str | None = None
    concurrency: int | None = None  # the entry point's @concurrent(max=N), if it has one


@dataclass(frozen=True, **SLOTS)
class SetupDone(_Frame):
    error: str | None  # None: setup succeeded
    has_healthcheck: bool = False


@dataclass(frozen=True, **SLOTS)
class Log(_Frame):
    id: str | None  # None: printed outside any prediction (setup)
    source: str  # "stdout" or "stderr"
    data: str


@dataclass(frozen=True, **SLOTS)
class Output(_Frame):
    """One chunk yielded by an iterator output."""

    id: str
    index: int
    value: object


@dataclass(frozen=True, **SLOTS)
class Metric(_Frame):
    id: str
    name: str
    value: object
    mode: str


@dataclass(frozen=True, **SLOTS)
class Done(_Frame):
    id: str
    status: Status
    output: object  # a single output (None for iterators, whose chunks came as Output)
    error: str | None
    metrics: dict[str, object]
    predict_time: float


@dataclass(frozen=True, **SLOTS)
class HealthResult(_Frame):
    ok: bool
    error: str | None = None


@dataclass(frozen=True, **SLOTS)
class OutputFile(_Frame):
    """A file in an output, by its path in the worker's filesystem (shared with us)."""

    path: str
    remove: bool = False  # written by the worker from a file object: delete once sent


# The folders of file objects' copies the worker writes (removed once sent): the supervisor
# deletes an output file under one of these, never a file of the project.
SPILL_PREFIX = "cog-output-"


def printable(text: str) -> str:
    """``text`` with what UTF-8 cannot hold (lone surrogates) written as escapes."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode()


ToWorker = Union[RunJob, Cancel, CheckHealth]  # noqa: UP007 (evaluated: 3.8+)
FromWorker = Union[  # noqa: UP007 (evaluated: 3.8+)
    Importing, Loaded, SetupDone, Log, Output, Metric, Done, HealthResult
]
