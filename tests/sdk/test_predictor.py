"""BaseRunner/BasePredictor, the streaming and concurrent marks, Input() and cog.BaseModel."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import cog
from cog import BaseModel, BasePredictor, BaseRunner, Input, concurrent, streaming
from cog._sdk.runner import STREAMING_ATTR
from cog._signature.model import MISSING


def _tokens() -> Iterator[str]:
    yield "a"


async def _async_tokens() -> AsyncIterator[str]:
    yield "a"


@pytest.mark.unit
@pytest.mark.parametrize(
    "decorate",
    [streaming, streaming(), cog.streaming, cog.streaming()],
    ids=["@streaming", "@streaming()", "@cog.streaming", "@cog.streaming()"],
)
@pytest.mark.parametrize("function", [_tokens, _async_tokens])
def test_streaming_spellings_mark_and_return_the_function(decorate: Any, function: Any) -> None:
    def copy() -> Any:
        # A fresh function object each time, so one spelling cannot mark another's.
        return type(function)(function.__code__, function.__globals__, function.__name__)

    target = copy()
    assert not hasattr(target, STREAMING_ATTR)
    assert decorate(target) is target
    assert getattr(target, STREAMING_ATTR) is True


@pytest.mark.unit
def test_concurrent_marks_async_functions() -> None:
    async def run() -> str:
        return "x"

    def sync_run() -> str:
        return "x"

    assert concurrent(max=4)(run) is run
    assert run.__cog_concurrent_max__ == 4  # type: ignore[attr-defined]
    assert concurrent(sync_run).__cog_concurrent_max__ == 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="requires an async function"):
        concurrent(max=2)(sync_run)
    with pytest.raises(ValueError, match="at least 1"):
        concurrent(max=0)
    with pytest.raises(TypeError, match="must be an integer"):
        concurrent(max=True)


@pytest.mark.unit
def test_base_runner_defaults() -> None:
    runner = BaseRunner()
    runner.setup()
    runner.setup(weights="w")
    assert runner.healthcheck() is True
    with pytest.raises(NotImplementedError):
        runner.run()


@pytest.mark.unit
def test_legacy_predict_is_a_bridge_to_run() -> None:
    class Legacy(BasePredictor):
        def predict(self, x: int) -> int:
            return x * 2

    class Modern(BaseRunner):
        def run(self, x: int) -> int:
            return x + 1

    assert Legacy().run(x=2) == 4
    with pytest.deprecated_call(match=r"Modern.predict\(\) is deprecated; use run\(\) instead"):
        assert Modern().predict(x=2) == 3
    assert issubclass(BasePredictor, BaseRunner)


@pytest.mark.unit
def test_input_records_everything() -> None:
    info = Input(
        default=1.5,
        description="d",
        ge=1,
        le=2,
        min_length=None,
        regex=None,
        choices=None,
        deprecated=True,
        accept="image/*",
    )
    assert info == cog.FieldInfo(
        default=1.5, description="d", ge=1, le=2, deprecated=True, accept="image/*"
    )
    assert Input().default is MISSING
    assert Input(default=None).default is None
    with pytest.raises(TypeError, match="default_factory is not supported"):
        Input(default_factory=list)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.default = 2


class Output(BaseModel):
    text: str
    confidence: float = 0.5


class Child(Output):
    extra: int = 0


@pytest.mark.unit
def test_base_model_subclasses_are_dataclasses() -> None:
    out = Output(text="hi")
    assert out == Output("hi", 0.5)
    assert repr(out) == "Output(text='hi', confidence=0.5)"
    assert dataclasses.asdict(Child("a", 1.0, 2)) == {"text": "a", "confidence": 1.0, "extra": 2}
    assert [f.name for f in dataclasses.fields(Child)] == ["text", "confidence", "extra"]
    assert dataclasses.is_dataclass(Output)


@pytest.mark.unit
def test_base_model_passes_dataclass_options() -> None:
    class Frozen(BaseModel, frozen=True):
        value: int

    with pytest.raises(dataclasses.FrozenInstanceError):
        Frozen(1).value = 2  # type: ignore[misc]


@pytest.mark.unit
def test_base_model_opt_out() -> None:
    class Manual(BaseModel, auto_dataclass=False):
        def __init__(self, value: int) -> None:
            self.value = value

    assert not dataclasses.is_dataclass(Manual)
    assert Manual(3).value == 3
    with pytest.raises(ValueError, match="broken field inheritance"):

        class Broken(Output, auto_dataclass=False):
            pass


@pytest.mark.unit
def test_base_model_inheritance_rules() -> None:
    @dataclasses.dataclass
    class Plain:
        x: int = 0

    with pytest.raises(
        TypeError, match='Primary base class of "Wrong" must inherit from BaseModel'
    ):

        class Wrong(Plain, BaseModel):
            pass

    with pytest.raises(TypeError, match='Cannot mixin dataclass "Plain"'):

        class Mixed(BaseModel, Plain):
            pass
