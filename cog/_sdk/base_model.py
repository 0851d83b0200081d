"""``cog.BaseModel``: structured outputs, declared like dataclasses."""

from __future__ import annotations

import dataclasses
import sys
from typing import Any, ClassVar

if sys.version_info >= (3, 11):  # noqa: UP036
    from typing import dataclass_transform
else:  # the image's Python can be 3.8-3.10; the decorator only informs type checkers
    from collections.abc import Callable
    from typing import TypeVar

    _T = TypeVar("_T")

    def dataclass_transform(**_: Any) -> Callable[[_T], _T]:
        return lambda cls: cls


__all__ = ["BaseModel"]


@dataclass_transform()
class BaseModel:
    """Subclasses become dataclasses (``auto_dataclass=False`` opts out).

    Extra class keywords (``frozen=True``, ``kw_only=True``...) go to ``dataclass()``.
    """

    _cog_auto_dataclass: ClassVar[bool] = True

    def __init_subclass__(
        cls, *, auto_dataclass: bool = True, init: bool = True, **kwargs: Any
    ) -> None:
        super().__init_subclass__()
        primary = cls.__bases__[0]
        if not issubclass(primary, BaseModel):
            raise TypeError(f'Primary base class of "{cls.__name__}" must inherit from BaseModel')
        for mixin in cls.__bases__[1:]:
            if dataclasses.is_dataclass(mixin):
                raise TypeError(
                    f'Cannot mixin dataclass "{mixin.__name__}" while inheriting from BaseModel'
                )
        if not auto_dataclass:
            # Fields inherited from a dataclass parent would be silently broken.
            if primary is not BaseModel and primary._cog_auto_dataclass:
                raise ValueError(
                    f'Primary base class of "{cls.__name__}" ("{primary.__name__}") has '
                    f'auto_dataclass=True, but "{cls.__name__}" has auto_dataclass=False. '
                    "This creates broken field inheritance."
                )
            cls._cog_auto_dataclass = False
            return
        if not primary._cog_auto_dataclass:
            # Once a parent opted out, dataclass handling is the user's from then on.
            return
        dataclasses.dataclass(init=init, **kwargs)(cls)
        cls._cog_auto_dataclass = True
