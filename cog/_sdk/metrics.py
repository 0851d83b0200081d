"""A prediction's custom metrics: naming rules, accumulation modes and type safety."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, MutableMapping
from typing import Final

__all__ = ["MODES", "MetricCallback", "Metrics", "check_metric_name"]

MODES: Final = ("replace", "incr", "append")
MAX_NAME_LENGTH: Final = 128
MAX_SEGMENTS: Final = 4
_SEGMENT: Final = re.compile(r"[A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?")

MetricCallback = Callable[[str, object, str], None]
"""Called as ``(name, value, mode)`` after each accepted record; a delete is
``(name, None, "replace")``, matching "recording None deletes"."""


def check_metric_name(name: str) -> None:
    """Raise ValueError saying which naming rule ``name`` breaks."""
    if not isinstance(name, str):
        raise TypeError(f"metric name must be a str, got {type(name).__name__}")
    if not name:
        raise ValueError("metric name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(
            f"metric name must be {MAX_NAME_LENGTH} characters or fewer "
            f"(got {len(name)} characters)"
        )
    if name == "predict_time":
        raise ValueError("metric name 'predict_time' is reserved by the runtime")
    if name.startswith("cog."):
        raise ValueError(f"metric name {name!r}: the 'cog.' prefix is reserved for system metrics")
    if name.startswith("."):
        raise ValueError(f"metric name {name!r} must not start with a dot")
    if name.endswith("."):
        raise ValueError(f"metric name {name!r} must not end with a dot")
    segments = name.split(".")
    if "" in segments:
        raise ValueError(f"metric name {name!r} must not contain empty segments (consecutive dots)")
    if len(segments) > MAX_SEGMENTS:
        raise ValueError(
            f"metric name {name!r} must have at most {MAX_SEGMENTS} dot-separated segments "
            f"(got {len(segments)})"
        )
    for segment in segments:
        if "__" in segment:
            raise ValueError(
                f"metric name segment {segment!r} must not contain consecutive underscores"
            )
        if not _SEGMENT.fullmatch(segment):
            raise ValueError(
                f"metric name segment {segment!r} must start with a letter, end with a letter "
                "or digit, and contain only letters, digits and underscores"
            )


def _kind(value: object) -> str:
    """The type family a metric keeps for life; int and float are one JSON number."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "dict"
    raise TypeError(
        f"Unsupported metric value type: {type(value).__name__} "
        "(use bool, int, float, str, list or dict)"
    )


def _json_copy(value: object) -> object:
    """A private copy, so later changes to the caller's list or dict don't leak in."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_copy(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("metric dict values must have str keys")
        return {key: _json_copy(item) for key, item in value.items()}
    raise TypeError(f"Unsupported metric value type inside a list or dict: {type(value).__name__}")


class Metrics(MutableMapping[str, object]):
    """The metrics of one prediction, keyed by dotted name.

    ``metrics[name] = value`` records in replace mode, ``del metrics[name]`` deletes (a
    missing name is not an error). An inactive instance (outside a prediction) ignores
    every write and is always empty.
    """

    def __init__(self, on_record: MetricCallback | None = None, *, active: bool = True) -> None:
        self._values: dict[str, object] = {}
        self._on_record = on_record
        self._active = active

    @property
    def active(self) -> bool:
        return self._active

    def record(self, name: str, value: object, mode: str = "replace") -> None:
        """Record ``value`` under ``name`` with mode replace, incr or append; None deletes."""
        if not self._active:
            return
        check_metric_name(name)
        if mode not in MODES:
            raise ValueError(
                f"Invalid metric mode: {mode!r}. Expected 'replace', 'incr', or 'append'."
            )
        if value is None:
            self.delete(name)
            return
        new = self._combine(name, _json_copy(value), mode)
        self._check_no_nesting_conflict(name)
        self._values[name] = new
        if self._on_record is not None:
            self._on_record(name, _json_copy(value), mode)

    def _combine(self, name: str, value: object, mode: str) -> object:
        old = self._values.get(name)
        if mode == "incr":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"Increment mode requires int or float, got {type(value).__name__}")
            if old is None:
                return value
            self._check_kind(name, old, value)
            assert isinstance(old, int | float)
            return old + value
        if mode == "append":
            _kind(value)
            if old is None:
                return [value]
            if not isinstance(old, list):
                raise TypeError(
                    f"metric {name!r} holds a {_kind(old)}, so it cannot be appended to; "
                    "delete it first"
                )
            return [*old, value]
        if old is not None:
            self._check_kind(name, old, value)
        else:
            _kind(value)
        return value

    @staticmethod
    def _check_kind(name: str, old: object, new: object) -> None:
        if _kind(old) != _kind(new):
            raise TypeError(
                f"metric {name!r} holds a {_kind(old)} and cannot change to a {_kind(new)}; "
                f"delete it first (del scope.metrics[{name!r}])"
            )

    def _check_no_nesting_conflict(self, name: str) -> None:
        parts = name.split(".")
        for end in range(1, len(parts)):
            parent = ".".join(parts[:end])
            if parent in self._values:
                raise TypeError(
                    f"metric {name!r} would nest inside {parent!r}, which already holds a "
                    f"{_kind(self._values[parent])}; delete {parent!r} first"
                )
        prefix = name + "."
        for existing in self._values:
            if existing.startswith(prefix):
                raise TypeError(
                    f"metric {name!r} already holds nested metrics such as {existing!r}; "
                    "delete them first"
                )

    def delete(self, name: str) -> None:
        """Forget ``name`` (needed before recording a value of another type)."""
        if not self._active:
            return
        self._values.pop(name, None)
        if self._on_record is not None:
            self._on_record(name, None, "replace")

    def to_json(self) -> dict[str, object]:
        """The metrics as a JSON object, dotted names nested (``a.b`` → ``{"a": {"b": …}}``)."""
        out: dict[str, object] = {}
        for name, value in self._values.items():
            *parents, leaf = name.split(".")
            node = out
            for part in parents:
                child = node.setdefault(part, {})
                assert isinstance(child, dict)
                node = child
            node[leaf] = _json_copy(value)
        return out

    def __getitem__(self, name: str) -> object:
        return self._values[name]

    def __setitem__(self, name: str, value: object) -> None:
        self.record(name, value)

    def __delitem__(self, name: str) -> None:
        self.delete(name)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        if not self._active:
            return "Metrics(inactive)"
        return f"Metrics({self._values!r})"
