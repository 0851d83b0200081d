"""How many predictions at once a model asks for with ``@concurrent(max=N)``.

Read by the worker from the entry point it loaded, and reported to the supervisor with
the signature (``Loaded.concurrency``): the supervisor never imports the model.
"""

from __future__ import annotations

from cog._sdk.runner import CONCURRENT_ATTR, user_method_owner
from cog._signature.model import Mode


def concurrent_max(obj: object, mode: Mode) -> int | None:
    """The ``max`` of the entry point's ``@concurrent``, or None when it has none.

    ``obj`` is what the ref names: a class (its run(), or a legacy predict(), or train())
    or a bare function.
    """
    if isinstance(obj, type):
        if mode is Mode.TRAIN:
            name = "train"
        elif (
            user_method_owner(obj, "run") is None and user_method_owner(obj, "predict") is not None
        ):
            name = "predict"
        else:
            name = "run"
        entry = getattr(obj, name, None)
    else:
        entry = obj
    value = getattr(entry, CONCURRENT_ATTR, None)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return None
    return value
