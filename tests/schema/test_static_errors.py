"""Real model errors name the file, line and parameter and say what to do; what the source
cannot decide is reported as undecided, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog._signature.model import Mode
from cog._signature.static import StaticAnalysisUndecided, signature_from_source
from cog.errors import SchemaError

HEADER = (
    "from typing import Iterator, Optional\n"
    "from cog import BaseModel, BaseRunner, ConcatenateIterator, Input, Path, streaming\n"
)


def runner(tmp_path: Path, params: str, returns: str = "str", extra: str = "") -> Path:
    """run.py whose run() is on line 5 (after two header lines and `class Runner`)."""
    (tmp_path / "run.py").write_text(
        HEADER
        + "class Runner(BaseRunner):\n"
        + "    x = 1\n"
        + f"    def run(self, {params}) -> {returns}:\n"
        + "        pass\n"
        + extra,
        encoding="utf-8",
    )
    return tmp_path


def error_of(project: Path, ref: str = "run.py:Runner") -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        signature_from_source(project, ref, Mode.PREDICT)
    assert not isinstance(caught.value, StaticAnalysisUndecided)
    return caught.value


@pytest.mark.unit
@pytest.mark.parametrize(
    ("params", "returns", "message", "hint"),
    [
        (
            "prompt",
            "str",
            "run.py:5: parameter 'prompt' of Runner.run() has no type annotation",
            "Annotate it, for example `prompt: str`.",
        ),
        (
            "size: tuple[int, int]",
            "str",
            "run.py:5: the type of input 'size', `tuple[int, int]`: this type is not supported",
            None,
        ),
        (
            "x: Path | str",
            "str",
            "run.py:5: the type of input 'x', `Path | str`: unions may only combine str, int, "
            "float, bool, dict and list[...]",
            "Use a single type for Path, File, Secret or BaseModel inputs.",
        ),
        (
            "x: list[list[str]]",
            "str",
            "run.py:5: the type of input 'x', `list[list[str]]`: nested types inside list[...] "
            "are not supported",
            None,
        ),
        (
            "x: Out",
            "str",
            "run.py:5: the type of input 'x', `Out`: a BaseModel cannot be an input",
            None,
        ),
        (
            "x: Foo",
            "str",
            "run.py:5: 'Foo' is not defined in run.py",
            "Import Foo (for example `from cog import Foo`) or define it.",
        ),
        (
            "x: str",
            "Optional[None]",
            "run.py:5: the return type of Runner.run(), `Optional[None]`: None alone is not "
            "an output type",
            None,
        ),
        (
            "x: str",
            "None",
            "run.py:5: Runner.run() must have a return type annotation",
            "Annotate what it returns, for example `-> str` or `-> Path`.",
        ),
        (
            "x: str",
            "ConcatenateIterator[int]",
            "run.py:5: the return type of Runner.run(), `ConcatenateIterator[int]`: "
            "ConcatenateIterator must yield str",
            None,
        ),
        (
            "name: str = Input(ge=1)",
            "str",
            "run.py:5: input 'name' has ge/le but is not a number",
            "Use ge/le on int or float.",
        ),
        (
            "n: int = Input(regex='^a')",
            "str",
            "run.py:5: input 'n' has min_length/max_length/regex but is not a string",
            "Use those constraints on str inputs only.",
        ),
        (
            "color: str = Input(choices=['red'])",
            "str",
            "run.py:5: input 'color': choices must have at least 2 elements",
            "Add choices.",
        ),
        (
            "n: int = Input(default=0, ge=1)",
            "str",
            "run.py:5: input 'n': the default is below ge=1",
            "Fix the default.",
        ),
        (
            "n: int = Input(choices=['a', 'b'])",
            "str",
            "run.py:5: input 'n': not all choices have the input's type (int)",
            "Make every choice the same type as the input.",
        ),
        (
            "n: int = Input(default=1, minimum=0)",
            "str",
            "run.py:5: Input() for 'n' has an unknown keyword 'minimum'",
            "Input() accepts: default, description, ge, le, min_length, max_length, regex, "
            "choices, deprecated, accept.",
        ),
        (
            "n: int = Input(description=3)",
            "str",
            "run.py:5: Input(description=...) for 'n' must be a string, not 3",
            "Pass a string as description=.",
        ),
        (
            "*args: str",
            "str",
            "run.py:5: Runner.run() must not take *args",
            "Declare every input as a plain parameter with a type annotation.",
        ),
        (
            "n: int = UNDEFINED",
            "str",
            "run.py:5: 'UNDEFINED' in the default of 'n' is not defined",
            "Define UNDEFINED at module level in run.py, or write the value inline.",
        ),
    ],
)
def test_model_error(
    tmp_path: Path, params: str, returns: str, message: str, hint: str | None
) -> None:
    extra = "class Out(BaseModel):\n    a: str\n"
    error = error_of(runner(tmp_path, params, returns, extra))
    assert error.message == message
    if hint is not None:
        assert error.hint == hint
    assert error.hint


@pytest.mark.unit
def test_streaming_needs_an_iterator(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner, streaming\n"
        "class Runner(BaseRunner):\n"
        "    @streaming\n"
        "    def run(self) -> str:\n"
        "        return ''\n",
        encoding="utf-8",
    )
    error = error_of(tmp_path)
    assert error.message == (
        "run.py:4: Runner.run() is decorated with @streaming but does not return an iterator"
    )


@pytest.mark.unit
def test_run_and_predict_together(tmp_path: Path) -> None:
    runner(tmp_path, "x: str", extra="    def predict(self) -> str:\n        pass\n")
    assert error_of(tmp_path).message == "run.py:3: Runner defines both run() and predict()"


@pytest.mark.unit
def test_setup_with_an_unknown_argument(tmp_path: Path) -> None:
    runner(tmp_path, "x: str", extra="    def setup(self, model_path):\n        pass\n")
    assert error_of(tmp_path).message == (
        "run.py:7: setup() takes an unexpected argument 'model_path'"
    )


@pytest.mark.unit
def test_class_without_run(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "from cog import BaseRunner\nclass Runner(BaseRunner):\n    pass\n", encoding="utf-8"
    )
    error = error_of(tmp_path)
    assert error.message == "run.py:2: class Runner has no run() or predict() method"
    assert error.hint == "Add run() to Runner."


@pytest.mark.unit
def test_missing_name_and_missing_file(tmp_path: Path) -> None:
    runner(tmp_path, "x: str")
    missing = error_of(tmp_path, "run.py:Model")
    assert missing.message == "run.py: no class or function named 'Model'"
    no_file = error_of(tmp_path, "predict.py:Predictor")
    assert no_file.message == f"predict.py: no such file in {tmp_path}"
    not_python = error_of(tmp_path, "Runner")
    assert not_python.message == "'Runner' is not a valid reference to a model"


@pytest.mark.unit
def test_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text("class Runner:\n    def run(self:\n", encoding="utf-8")
    error = error_of(tmp_path)
    assert error.message.startswith("run.py:2: syntax error: ")


def undecided_of(project: Path) -> StaticAnalysisUndecided:
    with pytest.raises(StaticAnalysisUndecided) as caught:
        signature_from_source(project, "run.py:Runner", Mode.PREDICT)
    return caught.value


@pytest.mark.unit
def test_third_party_annotation_is_undecided(tmp_path: Path) -> None:
    runner(tmp_path, "x: torch.Tensor", extra="import torch\n")
    assert undecided_of(tmp_path).message == (
        "run.py:5: the type `torch.Tensor` of input 'x' comes from 'torch.Tensor', which "
        "cannot be read without importing it"
    )


@pytest.mark.unit
def test_default_computed_at_run_time_is_undecided(tmp_path: Path) -> None:
    runner(tmp_path, "n: int = Input(default=os.cpu_count())", extra="import os\n")
    assert undecided_of(tmp_path).message == (
        "run.py:5: the value `os.cpu_count()` for 'n' is computed at run time and cannot be "
        "read from run.py"
    )


@pytest.mark.unit
def test_third_party_base_class_is_undecided(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "from lightning_cog import LightningRunner\nclass Runner(LightningRunner):\n    pass\n",
        encoding="utf-8",
    )
    assert undecided_of(tmp_path).message == (
        "run.py:2: Runner inherits from 'LightningRunner', which cannot be read without "
        "importing it"
    )


@pytest.mark.unit
def test_module_constants_and_arithmetic_are_decided(tmp_path: Path) -> None:
    (tmp_path / "limits.py").write_text("MAX = 2 ** 10\nNAMES = ('a', 'b')\n", encoding="utf-8")
    runner(
        tmp_path,
        "n: int = Input(default=-1 + 2, le=MAX), s: str = Input(choices=NAMES, default=NAMES[0])",
        extra="from limits import MAX, NAMES\n",
    )
    # NAMES[0] is a subscript: not decidable from the source, although NAMES itself is.
    assert "NAMES[0]" in undecided_of(tmp_path).message
    runner(
        tmp_path,
        "n: int = Input(default=-1 + 2, le=MAX), s: str = Input(choices=NAMES, default='b')",
        extra="from limits import MAX, NAMES\n",
    )
    n, s = signature_from_source(tmp_path, "run.py:Runner", Mode.PREDICT).inputs
    assert (n.default, n.le, s.choices, s.default) == (1, 1024.0, ("a", "b"), "b")


@pytest.mark.unit
def test_input_arguments_by_position_past_the_legacy_order_are_an_error(tmp_path: Path) -> None:
    params = 'x: str = Input("a", "doc", None, None, 1, 2, None, ["a"], "extra")'
    error = error_of(runner(tmp_path, params))
    assert error.message.endswith("Input() for 'x' takes at most 8 positional arguments")
    assert error.hint == (
        "In order they are default, description, ge, le, min_length, max_length, regex, "
        "choices; pass the rest as keywords."
    )


@pytest.mark.unit
def test_an_input_argument_given_by_position_and_keyword_is_an_error(tmp_path: Path) -> None:
    error = error_of(runner(tmp_path, 'x: str = Input("a", "doc", description="again")'))
    assert error.message.endswith("Input() for 'x' is given 'description' twice")
