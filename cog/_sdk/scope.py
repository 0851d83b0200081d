"""The current prediction's scope: where ``record_metric`` lands.

The runtime opens one scope per prediction with ``prediction_scope()``. Model code reaches
it through ``current_scope()`` (or ``self.scope`` / ``self.record_metric``); outside a
prediction that returns an inactive scope whose operations do nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from cog._sdk.metrics import MetricCallback, Metrics

__all__ = ["Scope", "current_scope", "prediction_scope"]


if TYPE_CHECKING:
    _ContextBase = dict[str, str]
else:
    _ContextBase = dict  # dict[str, str] cannot be a base class on Python 3.8


class _Context(_ContextBase):
    """The request's context: read-only, and a plain dict to anything that encodes it
    (a model may return it, or put it in its output)."""

    def _read_only(self, *_args: object, **_kwargs: object) -> None:
        raise TypeError("the prediction's context is read-only")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only  # type: ignore[assignment]

    def __ior__(self, _other: object) -> _Context:  # type: ignore[override,misc]
        raise TypeError("the prediction's context is read-only")

    def __reduce__(self) -> tuple[type[dict[str, str]], tuple[dict[str, str]]]:
        return (dict, (dict(self),))  # a copy elsewhere is a plain dict


class Scope:
    """One prediction's metrics and request context."""

    def __init__(
        self,
        on_metric: MetricCallback | None = None,
        *,
        context: Mapping[str, str] | None = None,
        active: bool = True,
    ) -> None:
        self._metrics = Metrics(on_metric, active=active)
        self._context: Mapping[str, str] = _Context(context or {})

    @property
    def metrics(self) -> Metrics:
        """Dict-style access: ``scope.metrics["n"] = 1``, ``del scope.metrics["n"]``."""
        return self._metrics

    @property
    def context(self) -> Mapping[str, str]:
        """The ``context`` object the request carried (empty when none)."""
        return self._context

    @property
    def active(self) -> bool:
        return self._metrics.active

    def record_metric(self, name: str, value: object, mode: str | None = "replace") -> None:
        """Record a metric; mode is "replace" (default), "incr" or "append"; None deletes."""
        self._metrics.record(name, value, mode)

    def metrics_json(self) -> dict[str, object]:
        """The recorded metrics as JSON, dotted names nested."""
        return self._metrics.to_json()

    def __repr__(self) -> str:
        return f"Scope(metrics={self._metrics!r})"


_NOOP_SCOPE = Scope(active=False)
_current: contextvars.ContextVar[Scope | None] = contextvars.ContextVar(
    "cog_prediction_scope", default=None
)
# Threads a model starts do not inherit context variables; when exactly one prediction
# is running (every sync model), its scope is still the right one for them.
_open_scopes: list[Scope] = []
_open_lock = threading.Lock()


def current_scope() -> Scope:
    """The running prediction's scope, or an inactive one (never None)."""
    scope = _current.get()
    if scope is not None:
        return scope
    with _open_lock:
        if len(_open_scopes) == 1:
            return _open_scopes[0]
    return _NOOP_SCOPE


@contextlib.contextmanager
def prediction_scope(
    on_metric: MetricCallback | None = None, *, context: Mapping[str, str] | None = None
) -> Iterator[Scope]:
    """Open a prediction's scope for the duration of the ``with`` block (runtime use)."""
    scope = Scope(on_metric, context=context)
    token = _current.set(scope)
    with _open_lock:
        _open_scopes.append(scope)
    try:
        yield scope
    finally:
        with _open_lock:
            _open_scopes.remove(scope)
        _current.reset(token)
