"""Signatures built by hand from the IR, mirroring the models the reference was run with.

``REFERENCE_ONE`` and ``REFERENCE_TWO`` are the two models whose 422 bodies were recorded
from the reference server (coglet 0.23.1) into tests/fixtures/validation/.
"""

from __future__ import annotations

from cog._signature.model import (
    MISSING,
    FieldType,
    InputSpec,
    Mode,
    OutputSpec,
    Primitive,
    Signature,
)

STR = FieldType(primitive=Primitive.STRING)
INT = FieldType(primitive=Primitive.INTEGER)
FLOAT = FieldType(primitive=Primitive.FLOAT)
BOOL = FieldType(primitive=Primitive.BOOL)
SECRET = FieldType(primitive=Primitive.SECRET)
PATH = FieldType(primitive=Primitive.PATH)
FILE = FieldType(primitive=Primitive.FILE)
ANY = FieldType(primitive=Primitive.ANY)


def list_of(primitive: Primitive, *, nullable: bool = False) -> FieldType:
    return FieldType(primitive=primitive, is_list=True, nullable=nullable)


def optional(primitive: Primitive) -> FieldType:
    return FieldType(primitive=primitive, nullable=True)


def union(*members: FieldType, nullable: bool = False) -> FieldType:
    return FieldType(union=members, nullable=nullable)


def signature(*inputs: InputSpec) -> Signature:
    return Signature(mode=Mode.PREDICT, inputs=inputs, output=OutputSpec(type=STR))


def one(ftype: FieldType, default: object = MISSING, **constraints: object) -> Signature:
    """A signature with a single input named ``x``."""
    return signature(InputSpec("x", ftype, default, **constraints))  # type: ignore[arg-type]


REFERENCE_ONE = signature(
    InputSpec("s", STR, "x"),
    InputSpec("i", INT, 1),
    InputSpec("f", FLOAT, 1.5),
    InputSpec("b", BOOL, False),
    InputSpec("sec", SECRET, None),
    InputSpec("p", PATH, None),
    InputSpec("fi", FILE, None),
    InputSpec("li", list_of(Primitive.INTEGER), None),
    InputSpec("ls", list_of(Primitive.STRING), None),
    InputSpec("lf", list_of(Primitive.FLOAT), None),
    InputSpec("d", ANY, None),
    InputSpec("oi", optional(Primitive.INTEGER), None),
    InputSpec("ci", INT, 5, ge=1, le=10),
    InputSpec("cf", FLOAT, 1.0, ge=0.5, le=1.5),
    InputSpec("cs", STR, "abc", min_length=2, max_length=4),
    InputSpec("rx", STR, "abc", regex=r"^[a-z]+$"),
    InputSpec("ch", STR, "a", choices=("a", "b")),
    InputSpec("chi", INT, 1, choices=(1, 2)),
    InputSpec("lp", list_of(Primitive.PATH), None),
    InputSpec("u", union(STR, INT), "u"),
    InputSpec("req", STR),
)

REFERENCE_TWO = signature(
    InputSpec("ci", INT, 5, ge=1, le=10),
    InputSpec("rd", STR, "1", regex=r"^\d+$"),
    InputSpec("fc", FLOAT, 0.5, choices=(0.5, 1.0, 2)),
    InputSpec("nu", union(STR, FLOAT, nullable=True), None),
    InputSpec("ul", union(list_of(Primitive.INTEGER), BOOL), True),
    InputSpec("cf", FLOAT, 1, ge=0.5, le=1e20),
    InputSpec("ls", list_of(Primitive.PATH), ()),
    InputSpec("r2", STR),
    InputSpec("r1", STR),
    InputSpec("rw", STR, "a x", regex=r"\w+\s\bx"),
    InputSpec("m1", STR, "a", min_length=1, max_length=1),
    InputSpec("rp", STR, "a", regex='a"b\\\\/é'),
    InputSpec("lc", list_of(Primitive.INTEGER), (), ge=2),
)

REFERENCE_SIGNATURES = {"one": REFERENCE_ONE, "two": REFERENCE_TWO}
