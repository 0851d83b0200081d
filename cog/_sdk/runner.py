"""``BaseRunner`` (and the legacy ``BasePredictor``) and the ``streaming``/``concurrent`` marks."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, overload

from cog._sdk.scope import Scope, current_scope
from cog._sdk.value_types import Path

__all__ = ["BasePredictor", "BaseRunner", "concurrent", "streaming", "user_method_owner"]

STREAMING_ATTR = "__cog_streaming__"
CONCURRENT_ATTR = "__cog_concurrent_max__"


class BaseRunner:
    """Subclass it: ``setup()`` loads the model once, ``run(**inputs)`` runs it."""

    def setup(self, weights: Path | str | None = None) -> None:
        """Load the model (called once). ``weights`` comes from COG_WEIGHTS when set."""

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Run the model once. A legacy subclass that defines only predict() is called here."""
        if user_method_owner(type(self), "predict") is not None:
            return self.predict(*args, **kwargs)
        raise NotImplementedError("run has not been implemented by parent class.")

    def predict(self, *args: Any, **kwargs: Any) -> Any:
        """Deprecated name of run()."""
        warnings.warn(
            f"{type(self).__name__}.predict() is deprecated; use run() instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.run(*args, **kwargs)

    def healthcheck(self) -> bool:
        """Override to report UNHEALTHY (return False) while the model is ready."""
        return True

    @property
    def scope(self) -> Scope:
        """The current prediction's scope (inactive, and ignoring writes, outside one)."""
        return current_scope()

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        """Record a metric on the current prediction; a no-op outside one."""
        current_scope().record_metric(key, value, mode)


class BasePredictor(BaseRunner):
    """Deprecated: use ``BaseRunner`` (and ``run()`` instead of ``predict()``)."""


def user_method_owner(cls: type, name: str) -> type | None:
    """The class in ``cls``'s MRO that the user wrote ``name`` in, above the SDK's bases."""
    for owner in inspect.getmro(cls):
        if owner in (BaseRunner, BasePredictor, object):
            # Mixins listed after BaseRunner are not the user's selected override.
            break
        if callable(owner.__dict__.get(name)):
            return owner
    return None


_F = TypeVar("_F", bound="Callable[..., object]")


@overload
def streaming(fn: _F) -> _F: ...
@overload
def streaming(fn: None = None) -> Callable[[_F], _F]: ...
def streaming(fn: _F | None = None) -> _F | Callable[[_F], _F]:
    """Mark run()/predict() as able to answer ``Accept: text/event-stream``.

    Works as ``@streaming``, ``@streaming()``, ``@cog.streaming`` and ``@cog.streaming()``.
    """

    def mark(inner: _F) -> _F:
        setattr(inner, STREAMING_ATTR, True)
        return inner

    return mark if fn is None else mark(fn)


@overload
def concurrent(fn: _F) -> _F: ...
@overload
def concurrent(fn: None = None, *, max: int = 1) -> Callable[[_F], _F]: ...
def concurrent(
    fn: _F | None = None,
    *,
    max: int = 1,
) -> _F | Callable[[_F], _F]:
    """Set the most predictions an async run() may serve at once: ``@concurrent(max=4)``."""
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError("concurrent max must be an integer")
    if max < 1:
        raise ValueError("concurrent max must be at least 1")

    def mark(inner: _F) -> _F:
        is_async = inspect.iscoroutinefunction(inner) or inspect.isasyncgenfunction(inner)
        if max > 1 and not is_async:
            raise TypeError("concurrent max greater than 1 requires an async function")
        setattr(inner, CONCURRENT_ATTR, max)
        return inner

    if fn is None:
        return mark
    if not callable(fn):
        raise TypeError("concurrent must be used as @concurrent or @concurrent(max=...)")
    return mark(fn)
