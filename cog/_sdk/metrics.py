"""A prediction's custom metrics: naming rules, accumulation modes and type safety.

Behaviour and messages follow the reference runtime (coglet 0.23), observed directly:
int, float, bool, str, list and dict are distinct types; ``append`` records the type of the
appended element and turns an existing scalar into a list; a dotted name and its parent
may both be set, the later one winning in the nested JSON.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Final

__all__ = ["MODES", "MetricCallback", "Metrics", "check_metric_name"]

MODES: Final = ("replace", "incr", "append")
MAX_NAME_LENGTH: Final = 128
MAX_SEGMENTS: Final = 4
_INVALID_CHAR: Final = re.compile(r"[^A-Za-z0-9_]")
_VALUE_TYPES: Final = (bool, int, float, str, list, dict)

MetricCallback = typing.Callable[[str, object, str], None]
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
        raise ValueError("'predict_time' is reserved by the runtime")
    if name.startswith("cog."):
        raise ValueError("the 'cog.' prefix is reserved for system metrics")
    if name.startswith("."):
        raise ValueError("metric name must not start with a dot")
    if name.endswith("."):
        raise ValueError("metric name must not end with a dot")
    segments = name.split(".")
    if "" in segments:
        raise ValueError("metric name must not contain empty segments (consecutive dots)")
    if len(segments) > MAX_SEGMENTS:
        raise ValueError(
            f"metric name must have at most {MAX_SEGMENTS} dot-separated segments "
            f"(got {len(segments)})"
        )
    for segment in segments:
        _check_segment(segment)


def _check_segment(segment: str) -> None:
    def ascii_letter(char: str) -> bool:
        return char.isascii() and char.isalpha()

    if not ascii_letter(segment[0]):
        raise ValueError(f"metric name segment {segment!r} must start with a letter")
    if not (ascii_letter(segment[-1]) or segment[-1] in "0123456789"):
        raise ValueError(f"metric name segment {segment!r} must end with a letter or digit")
    if "__" in segment:
        raise ValueError(
            f"metric name segment {segment!r} must not contain consecutive underscores"
        )
    if bad := _INVALID_CHAR.search(segment):
        raise ValueError(f"metric name segment {segment!r} contains invalid character {bad[0]!r}")


def _type_of(value: object) -> type:
    for kind in _VALUE_TYPES:  # bool before int: True is an int too
        if isinstance(value, kind):
            return kind
    raise TypeError(
        f"Unsupported metric value type: {type(value).__name__}. "
        "Expected bool, int, float, str, list, or dict."
    )


def _json_copy(value: object) -> object:
    """A private copy, so later changes to the caller's list or dict don't leak in."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_json_copy(item) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"metric dict keys must be str, got {type(key).__name__}")
        return {key: _json_copy(item) for key, item in value.items()}
    raise TypeError(f"Cannot convert {type(value).__name__} to JSON metric value")


def _sorted_json(value: object) -> object:
    # The reference renders metric objects with sorted keys (serde_json's default map).
    if isinstance(value, dict):
        return {key: _sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_json(item) for item in value]
    return value


class Metrics(typing.MutableMapping[str, object]):
    """The metrics of one prediction, keyed by dotted name.

    ``metrics[name] = value`` records in replace mode, ``del metrics[name]`` deletes (a
    missing name is not an error). An inactive instance (outside a prediction) ignores
    every write and is always empty.
    """

    def __init__(self, on_record: MetricCallback | None = None, *, active: bool = True) -> None:
        self._values: dict[str, object] = {}
        self._types: dict[str, type] = {}
        self._on_record = on_record
        self._active = active

    @property
    def active(self) -> bool:
        return self._active

    def record(self, name: str, value: object, mode: str | None = "replace") -> None:
        """Record ``value`` under ``name`` with mode replace, incr or append.

        ``None`` in replace mode deletes. Raises ValueError for a bad name, TypeError for a
        bad mode, an unsupported value or a change of type.
        """
        mode = "replace" if mode is None else mode  # the reference's default is None
        if mode not in MODES:
            # Checked even outside a prediction, as the reference does: a typo shows locally.
            raise TypeError(
                f"Invalid metric mode: {mode!r}. Expected 'replace', 'incr', or 'append'."
            )
        if not self._active:
            return
        check_metric_name(name)
        if value is None and mode == "replace":
            self.delete(name)
            return
        kind = _type_of(value)
        copied = _json_copy(value)
        if mode == "incr" and kind not in (int, float):
            raise TypeError(f"Increment mode requires int or float, got {kind.__name__}")
        old_kind = self._types.get(name)
        if old_kind is not None and old_kind is not kind:
            raise TypeError(
                f"Metric {name!r} has type {old_kind.__name__}, cannot set to {kind.__name__} "
                "without deleting first"
            )
        combined = self._combine(name, copied, mode)
        # Re-inserted so that the later of a name and a dotted name under it wins in to_json.
        self._values.pop(name, None)
        self._values[name] = combined
        self._types[name] = kind
        if self._on_record is not None:
            self._on_record(name, _json_copy(value), mode)

    def _combine(self, name: str, value: object, mode: str) -> object:
        if name not in self._values or mode == "replace":
            return [value] if mode == "append" else value
        old = self._values[name]
        if mode == "append":
            return [*old, value] if isinstance(old, list) else [old, value]
        if not isinstance(old, (int, float)):
            raise TypeError(f"Metric {name!r} holds a list of values and cannot be incremented")
        assert isinstance(value, (int, float))
        return old + value

    def delete(self, name: str) -> None:
        """Forget ``name`` (needed before recording a value of another type)."""
        if not self._active:
            return
        self._values.pop(name, None)
        self._types.pop(name, None)
        if self._on_record is not None:
            self._on_record(name, None, "replace")

    def to_json(self) -> dict[str, object]:
        """The metrics as a JSON object: dotted names nested, keys sorted.

        Where a name and a dotted name under it are both set, the one recorded later wins.
        """
        out: dict[str, object] = {}
        for name, value in self._values.items():
            *parents, leaf = name.split(".")
            node = out
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
            node[leaf] = _json_copy(value)
        result = _sorted_json(out)
        assert isinstance(result, dict)
        return result

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
