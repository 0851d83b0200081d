"""``Input()``: documentation and constraints for one parameter of run()/predict()/train()."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cog._signature.model import MISSING

__all__ = ["FieldInfo", "Input", "InputInfo"]


@dataclass(frozen=True)
class InputInfo:
    """What ``Input(...)`` recorded. ``default`` is ``MISSING`` when the input is required."""

    default: Any = MISSING
    description: str | None = None
    ge: int | float | None = None
    le: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[str | int] | None = None
    deprecated: bool | None = None
    accept: str | None = None  # HTML-accept style MIME types for Path/File inputs


FieldInfo = InputInfo
"""The reference's name for the same record."""


# Cog 0.8 to 0.16 took these by position too (Input(None, "the prompt")), and published
# models still pass them so; the static schema reader maps positions with this order.
INPUT_POSITIONAL = (
    "default",
    "description",
    "ge",
    "le",
    "min_length",
    "max_length",
    "regex",
    "choices",
)


def Input(  # noqa: N802, PLR0917 (the reference's public name and its positional order)
    default: Any = MISSING,
    description: str | None = None,
    ge: int | float | None = None,
    le: int | float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    choices: list[str | int] | None = None,
    *,
    default_factory: Any = None,
    deprecated: bool | None = None,
    accept: str | None = None,
) -> Any:
    """Describe an input. Without ``default`` it is required; ``default=None`` makes it optional.

    Typed ``Any`` so that ``x: int = Input(...)`` type-checks in a model's code.
    """
    if default_factory is not None:
        raise TypeError(
            "default_factory is not supported in Input(): use a literal default, "
            "Input(default=...), and build mutable values inside run()"
        )
    return InputInfo(
        default=default,
        description=description,
        ge=ge,
        le=le,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=None if choices is None else list(choices),
        deprecated=deprecated,
        accept=accept,
    )
