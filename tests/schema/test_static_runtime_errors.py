"""What the worker's introspection rejects, the static reader rejects at build time too,
naming the file, line and input (or output field) and saying what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog._signature.model import FieldType, Mode, ModelSpec, OutputKind, OutputSpec, Primitive
from cog._signature.static import StaticAnalysisUndecided, signature_from_source
from cog.errors import SchemaError

SOURCE = """\
from collections.abc import Generator, Iterator
from typing import Annotated, Optional
from cog import BaseModel, BaseRunner, Input, Opaque
class Inner(BaseModel):
    x: int
class Outer(BaseModel):
    name: str
    inner: {field}
class Runner(BaseRunner):
    def setup(self{setup}) -> None: ...
    def run(self, {params}) -> {returns}: ...
"""


def error_of(
    tmp_path: Path,
    *,
    params: str = "",
    returns: str = "str",
    field: str = "int",
    setup: str = "",
) -> SchemaError:
    source = SOURCE.format(params=params, returns=returns, field=field, setup=setup)
    (tmp_path / "run.py").write_text(source, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert not isinstance(caught.value, StaticAnalysisUndecided)
    assert caught.value.hint
    return caught.value


@pytest.mark.unit
@pytest.mark.parametrize("field", ["Inner", "Optional[Inner]", "list[Inner]"])
def test_nested_base_model_field(tmp_path: Path, field: str) -> None:
    error = error_of(tmp_path, returns="Outer", field=field)
    assert error.message == (
        f"run.py:8: output field Outer.inner, `{field}`: a BaseModel field cannot hold "
        "another BaseModel (nested BaseModel fields are not supported)"
    )
    assert error.hint == (
        "Flatten the inner model's fields into the output model, or type the field as dict."
    )


@pytest.mark.unit
@pytest.mark.parametrize("returns", ["Iterator[Optional[str]]", "Iterator[str | int]"])
def test_iterator_of_optionals_or_unions(tmp_path: Path, returns: str) -> None:
    error = error_of(tmp_path, returns=returns)
    assert error.message == (
        f"run.py:11: the return type of Runner.run(), `{returns}`: an iterator's element "
        "type must not be Optional or a union"
    )
    assert error.hint is not None
    assert "a list of those" in error.hint


@pytest.mark.unit
def test_optional_inside_an_opaque_return(tmp_path: Path) -> None:
    error = error_of(tmp_path, returns="Annotated[Optional[dict], Opaque]")
    assert error.message == (
        "run.py:11: the return type of Runner.run(), `Annotated[Optional[dict], Opaque]`: "
        "Optional is not allowed inside Opaque as a top-level return type"
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            "name: str = Input(default='abcdef', max_length=3)",
            "input 'name': the default is longer than max_length=3",
        ),
        (
            "name: str = Input(default='a', min_length=3)",
            "input 'name': the default is shorter than min_length=3",
        ),
        ("n: int = Input(default='three')", "input 'n': the default 'three' is not a valid int"),
        ("n: int = True", "input 'n': the default True is not a valid int"),
        ("words: list[str] = 'a'", "input 'words': the default 'a' is not a list"),
        ("sizes: list[int] = [1, 'a']", "input 'sizes': the default 'a' is not a valid int"),
    ],
)
def test_default_the_input_would_refuse(tmp_path: Path, params: str, message: str) -> None:
    assert error_of(tmp_path, params=params).message == f"run.py:11: {message}"


@pytest.mark.unit
def test_int_default_of_a_float_input_is_a_float(tmp_path: Path) -> None:
    # As the worker holds it, so the rendered default is 3.0 in both readers.
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner\n"
        "class Runner(BaseRunner):\n"
        "    def run(self, scale: float = 3) -> str: ...\n",
        encoding="utf-8",
    )
    default = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT).inputs[0].default
    assert (type(default), default) == (float, 3.0)


@pytest.mark.unit
@pytest.mark.parametrize("returns", ["Generator[str, None, None]", "Iterator"])
def test_iterator_spellings_the_runtime_refuses(tmp_path: Path, returns: str) -> None:
    error = error_of(tmp_path, returns=returns)
    assert error.message.startswith(f"run.py:11: the return type of Runner.run(), `{returns}`")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (", *args: str", "run.py:10: Runner.setup() must not take *args, **kwargs or keyword-only"),
        (", *, weights: str = ''", "run.py:10: Runner.setup() must not take *args"),
    ],
)
def test_setup_signature(tmp_path: Path, setup: str, message: str) -> None:
    assert error_of(tmp_path, setup=setup).message.startswith(message)


@pytest.mark.unit
def test_run_without_self(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner\n"
        "class Runner(BaseRunner):\n"
        "    @staticmethod\n"
        "    def run(text: str) -> str: ...\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as caught:
        signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert caught.value.message == "run.py:4: Runner.run() must take 'self' as its first argument"


@pytest.mark.unit
def test_project_enum_and_typed_dict_are_decided_without_importing(tmp_path: Path) -> None:
    # Both used to be "undecided" (a subprocess import at build time) though the runtime's
    # answer is fixed: a TypedDict input is an opaque object, an Enum is refused.
    source = (
        "import enum\n"
        "from typing import TypedDict\n"
        "from cog import BaseRunner\n"
        "class Message(TypedDict):\n"
        "    role: str\n"
        "class Color(str, enum.Enum):\n"
        "    RED = 'red'\n"
        "class Runner(BaseRunner):\n"
        "    def run(self, message: Message) -> list[Message]: ...\n"
        "class Painter(BaseRunner):\n"
        "    def run(self, color: Color) -> str: ...\n"
    )
    (tmp_path / "run.py").write_text(source, encoding="utf-8")
    signature = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert signature.inputs[0].type == FieldType(primitive=Primitive.ANY)
    # As an output a TypedDict is an object with its keys (a component of its own).
    message = ModelSpec("Message", (("role", FieldType(primitive=Primitive.STRING)),))
    assert signature.output == OutputSpec(FieldType(model=message), OutputKind.LIST)
    with pytest.raises(SchemaError) as caught:
        signature_from_source(tmp_path, "run.py:Painter", Mode.PREDICT)
    assert not isinstance(caught.value, StaticAnalysisUndecided)
    assert caught.value.message == (
        "run.py:11: the type of input 'color', `Color`: enum type Color is not supported"
    )
    assert caught.value.hint == "Use str or int with Input(choices=[...]) instead."
