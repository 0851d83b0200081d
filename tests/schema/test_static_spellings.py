"""Spellings the fixtures do not show: aliases, module imports, relative imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog._signature.model import (
    FieldType,
    InputSpec,
    Mode,
    ModelSpec,
    OutputKind,
    OutputSpec,
    Primitive,
    Signature,
)
from cog._signature.static import signature_from_source


@pytest.mark.unit
def test_aliases_and_module_imports(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "import typing as t\n"
        "import cog as c\n"
        "from cog import Input as In, Path as CogPath\n"
        "from pathlib import Path as StdPath\n"
        "MaybeText = t.Optional[str]\n"
        "Paths = t.List[CogPath]\n"
        "class Runner(c.BaseRunner):\n"
        "    def run(self, a: MaybeText, b: Paths, c: StdPath = In(description='d'),\n"
        "            d: 't.Union[int, float]' = 1) -> t.Iterator['c.Path']:\n"
        "        yield b[0]\n",
        encoding="utf-8",
    )
    assert signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT) == Signature(
        mode=Mode.PREDICT,
        inputs=(
            InputSpec("a", FieldType(primitive=Primitive.STRING, nullable=True)),
            InputSpec("b", FieldType(primitive=Primitive.PATH, is_list=True)),
            InputSpec("c", FieldType(primitive=Primitive.PATH), description="d"),
            InputSpec(
                "d",
                FieldType(
                    union=(
                        FieldType(primitive=Primitive.INTEGER),
                        FieldType(primitive=Primitive.FLOAT),
                    )
                ),
                default=1,
            ),
        ),
        output=OutputSpec(FieldType(primitive=Primitive.PATH), OutputKind.ITERATOR),
    )


@pytest.mark.unit
def test_relative_and_package_imports(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "models" / "output.py").write_text(
        "from pydantic import BaseModel\n"
        "class Base(BaseModel):\n    id: int\n"
        "class Result(Base):\n    text: str\n",
        encoding="utf-8",
    )
    (tmp_path / "shared.py").write_text("from models import output\n", encoding="utf-8")
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner\n"
        "from .shared import output\n"
        "import models.output as out\n"
        "class Runner(BaseRunner):\n"
        "    def run(self) -> list[output.Result]:\n"
        "        return []\n"
        "class Other(BaseRunner):\n"
        "    def run(self) -> out.Result:\n"
        "        return out.Result(id=1, text='')\n",
        encoding="utf-8",
    )
    result = FieldType(
        model=ModelSpec(
            "Result",
            (
                ("id", FieldType(primitive=Primitive.INTEGER)),
                ("text", FieldType(primitive=Primitive.STRING)),
            ),
        )
    )
    runner = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert runner.output == OutputSpec(result, OutputKind.LIST)
    other = signature_from_source(tmp_path, "run.py:Other", Mode.PREDICT)
    assert other.output == OutputSpec(result)


@pytest.mark.unit
def test_runner_imported_from_another_file(tmp_path: Path) -> None:
    (tmp_path / "impl.py").write_text(
        "from cog import BaseRunner\n"
        "class Runner(BaseRunner):\n"
        "    async def run(self, n: int = 2) -> int:\n"
        "        return n\n",
        encoding="utf-8",
    )
    (tmp_path / "run.py").write_text("from impl import Runner\n", encoding="utf-8")
    signature = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert signature.is_async
    assert signature.inputs == (InputSpec("n", FieldType(primitive=Primitive.INTEGER), default=2),)


@pytest.mark.unit
def test_star_imports_of_cog_and_typing(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "from typing import *\n"
        "from cog import *\n"
        "class Runner(BaseRunner):\n"
        "    @streaming\n"
        "    def run(self, p: Optional[Path] = Input(default=None)) -> Iterator[str]:\n"
        "        yield ''\n",
        encoding="utf-8",
    )
    signature = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT)
    assert signature.streaming
    assert signature.inputs == (
        InputSpec("p", FieldType(primitive=Primitive.PATH, nullable=True), default=None),
    )
    assert signature.output == OutputSpec(
        FieldType(primitive=Primitive.STRING), OutputKind.ITERATOR
    )


@pytest.mark.unit
def test_invalid_escape_in_the_model_is_not_our_warning(tmp_path: Path) -> None:
    # filterwarnings=error turns a leaked SyntaxWarning into a failure here.
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner, Input\n"
        "class Runner(BaseRunner):\n"
        "    def run(self, s: str = Input(regex='^\\d+$')) -> str:\n"
        "        return s\n",
        encoding="utf-8",
    )
    (spec,) = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT).inputs
    assert spec.regex == "^\\d+$"
