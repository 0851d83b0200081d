"""What the code that runs inside an image needs to run on every Python cog builds (3.8+).

The SDK and the runtime run on the image's interpreter, which can be older than the host's.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

# ``@dataclass(frozen=True, **SLOTS)``: slots where dataclass() has them (3.10+).
SLOTS: dict[str, Any] = {"slots": True} if sys.version_info >= (3, 10) else {}

# typing.get_origin of ``X | Y``: types.UnionType (3.10+), or typing.Union.
UNION_ORIGINS: tuple[object, ...] = (
    (typing.Union, types.UnionType) if sys.version_info >= (3, 10) else (typing.Union,)
)


if sys.version_info >= (3, 10):  # noqa: UP036
    is_typeddict = typing.is_typeddict
else:

    def is_typeddict(tp: object) -> bool:
        return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


if sys.version_info >= (3, 9):  # noqa: UP036
    ANNOTATED: object = typing.Annotated

    def type_hints(obj: object) -> dict[str, Any]:
        """``typing.get_type_hints`` keeping ``Annotated`` metadata."""
        return typing.get_type_hints(obj, include_extras=True)

else:  # Python 3.8's typing has no Annotated: nothing to keep
    ANNOTATED = object()  # the origin of no type

    def type_hints(obj: object) -> dict[str, Any]:
        return typing.get_type_hints(obj)
