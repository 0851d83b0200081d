"""Exceptions a model's code may catch (also re-exported as ``cog.CancelationException``)."""

from __future__ import annotations

__all__ = ["CancelationException"]


class CancelationException(BaseException):
    """Raised inside a sync run()/predict() when its prediction is canceled.

    A ``BaseException`` like ``KeyboardInterrupt`` and ``asyncio.CancelledError``, so a
    model's ``except Exception`` blocks do not swallow it. Re-raise it after cleanup.
    """
