"""The intermediate representation of a model's run/predict/train interface.

Produced by static analysis of the source (``static``) or by introspecting an imported
object (``introspect``); consumed by the OpenAPI renderer, input validation and the
runtime. Frozen dataclasses only, so a signature can cross a process boundary by pickle
and be compared whole in tests.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Final


class _Missing(enum.Enum):
    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing.MISSING
"""No default: the input is required. ``None`` is a real default (the input is optional)."""


class Primitive(enum.Enum):
    """The scalar types an input or output may have, as Cog names them."""

    STRING = "str"
    INTEGER = "int"
    FLOAT = "float"
    BOOL = "bool"
    PATH = "Path"
    FILE = "File"
    SECRET = "Secret"  # noqa: S105 (a type name, not a password)
    ANY = "Any"  # dict, Any, or Annotated[..., Opaque]: an opaque JSON object

    @property
    def is_file(self) -> bool:
        return self in (Primitive.PATH, Primitive.FILE)


@dataclass(frozen=True)
class ModelSpec:
    """A BaseModel (cog's or pydantic's) or a TypedDict used as an output.

    ``defaults`` holds the JSON default of each field that has one (a field with a default
    is not required); ``optional`` names the fields that are not required without one (a
    TypedDict's ``NotRequired`` keys, a ``default_factory`` field).
    """

    name: str
    fields: tuple[tuple[str, FieldType], ...]
    defaults: tuple[tuple[str, object], ...] = ()
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class FieldType:
    """The type of one input, one BaseModel field, or an output's element.

    Exactly one of ``primitive``, ``union`` or ``model`` is set. ``is_list`` wraps it in
    ``list[...]``; ``nullable`` admits ``None`` (``Optional[T]`` / ``T | None``).
    """

    primitive: Primitive | None = None
    union: tuple[FieldType, ...] = ()
    model: ModelSpec | None = None
    is_list: bool = False
    nullable: bool = False

    def __post_init__(self) -> None:
        chosen = sum((self.primitive is not None, bool(self.union), self.model is not None))
        if chosen != 1:
            raise ValueError("FieldType needs exactly one of primitive, union or model")


class OutputKind(enum.Enum):
    SINGLE = "single"  # T, or a BaseModel
    LIST = "list"  # list[T]
    ITERATOR = "iterator"  # Iterator[T] / AsyncIterator[T]
    CONCATENATE_ITERATOR = "concatenate"  # ConcatenateIterator[T] / AsyncConcatenateIterator[T]


@dataclass(frozen=True)
class OutputSpec:
    type: FieldType  # for LIST and iterators: the element type
    kind: OutputKind = OutputKind.SINGLE


@dataclass(frozen=True)
class InputSpec:
    """One parameter of run()/predict()/train(), in declaration order."""

    name: str
    type: FieldType
    default: object = MISSING
    description: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: tuple[str | int | float, ...] | None = None
    deprecated: bool | None = None
    accept: str | None = None  # Input(accept=...): the MIME types a Path/File input takes

    @property
    def required(self) -> bool:
        return self.default is MISSING


class Mode(enum.Enum):
    PREDICT = "predict"
    TRAIN = "train"


@dataclass(frozen=True)
class Signature:
    """Everything the API of one entry point (predict or train) depends on."""

    mode: Mode
    inputs: tuple[InputSpec, ...]
    output: OutputSpec
    is_async: bool = False
    streaming: bool = False  # @cog.streaming: SSE allowed
    setup_takes_weights: bool = False
    is_class: bool = True  # a class with setup(); False for a bare train() function
    warnings: tuple[str, ...] = field(default=(), compare=False)
