"""Introspection of the fixture models, compared whole against hand-written Signatures."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cog._signature.introspect import entry_method, signature_of
from cog._signature.model import (
    MISSING,
    FieldType,
    InputSpec,
    Mode,
    ModelSpec,
    OutputKind,
    OutputSpec,
    Primitive,
    Signature,
)

Loader = Callable[[str], object]

STR = FieldType(primitive=Primitive.STRING)
INT = FieldType(primitive=Primitive.INTEGER)
FLOAT = FieldType(primitive=Primitive.FLOAT)
BOOL = FieldType(primitive=Primitive.BOOL)
PATH = FieldType(primitive=Primitive.PATH)
FILE = FieldType(primitive=Primitive.FILE)
SECRET = FieldType(primitive=Primitive.SECRET)
ANY = FieldType(primitive=Primitive.ANY)


def listed(t: FieldType) -> FieldType:
    return FieldType(primitive=t.primitive, is_list=True)


def nullable(t: FieldType) -> FieldType:
    return FieldType(primitive=t.primitive, is_list=t.is_list, nullable=True)


EXPECTED_INPUTS = (
    InputSpec("text", STR),
    InputSpec("count", INT),
    InputSpec("ratio", FLOAT),
    InputSpec("flag", BOOL),
    InputSpec("image", PATH),
    InputSpec("handle", FILE),
    InputSpec("token", SECRET),
    InputSpec("local", PATH),
    InputSpec("params", ANY),
    InputSpec("anything", ANY),
    InputSpec("typed", ANY),
    InputSpec("message", ANY),
    InputSpec("messages", listed(ANY)),
    InputSpec("maybe_messages", nullable(listed(ANY))),
    InputSpec("maybe_words", nullable(listed(STR))),
    InputSpec("maybe_message", nullable(ANY)),
    InputSpec("described", STR),
    InputSpec("prompt", nullable(STR)),
    InputSpec("seed", nullable(INT)),
    InputSpec("value", FieldType(union=(STR, INT))),
    InputSpec("number_or_text", FieldType(union=(STR, FLOAT), nullable=True)),
    InputSpec("flexible", FieldType(union=(listed(STR), ANY, BOOL))),
    InputSpec("words", listed(STR)),
    InputSpec("numbers", listed(INT)),
    InputSpec("paths", listed(PATH)),
    InputSpec("loose", listed(ANY)),
    InputSpec("records", listed(ANY)),
    InputSpec("scale", FLOAT, default=1.5, description="Factor to scale image by", ge=1.0, le=10.0),
    InputSpec("steps", INT, default=4, ge=1.0),
    InputSpec("name", STR, default="world", min_length=1, max_length=20, regex="^[a-z]+$"),
    InputSpec("color", STR, default="red", choices=("red", "green", "blue")),
    InputSpec("size", INT, default=512, choices=(256, 512)),
    InputSpec("legacy", STR, default="x", description="Some deprecated text", deprecated=True),
    InputSpec("optional_plain", STR, default=None),
    InputSpec("plain_default", STR, default="default prompt"),
    InputSpec("plain_number", FLOAT, default=3.0),
    InputSpec("plain_none", nullable(INT), default=None),
    InputSpec("word_defaults", listed(STR), default=["a", "b"]),
    InputSpec("secret_default", SECRET, default="hunter2"),
    InputSpec("picks", listed(STR), default=["a"], description="Pick some", choices=("a", "b")),
)


@pytest.mark.unit
def test_every_input_type_and_constraint(load_fixture: Loader) -> None:
    sig = signature_of(load_fixture("inputs.py:Runner"), Mode.PREDICT)
    assert sig == Signature(
        mode=Mode.PREDICT, inputs=EXPECTED_INPUTS, output=OutputSpec(PATH), is_class=True
    )
    assert sig.warnings == ()
    # Declaration order is kept, and compare=False on warnings must not hide input changes.
    assert [i.name for i in sig.inputs] == [i.name for i in EXPECTED_INPUTS]
    by_name = {i.name: i for i in sig.inputs}
    assert type(by_name["plain_number"].default) is float  # `float = 3` normalized to 3.0


@pytest.mark.unit
def test_required_follows_default(load_fixture: Loader) -> None:
    sig = signature_of(load_fixture("inputs.py:Runner"), Mode.PREDICT)
    by_name = {i.name: i for i in sig.inputs}
    assert by_name["text"].default is MISSING
    assert by_name["optional_plain"].default is None  # Input(default=None) means optional
    # Optional[T] without a default: no default written (the OpenAPI has none), and the
    # nullable type is what makes it optional.
    assert by_name["prompt"].default is MISSING
    assert by_name["prompt"].type.nullable


OUTPUT_MODEL = ModelSpec(
    name="Output",
    fields=(
        ("text", STR),
        ("confidence", FLOAT),
        ("image", nullable(PATH)),
        ("tags", listed(STR)),
        ("data", FILE),
        ("token", SECRET),
        ("extra", ANY),
        ("count", nullable(INT)),
    ),
    defaults=(("count", None),),
)
RESULT_MODEL = ModelSpec(
    name="Result", fields=(("name", STR), ("score", FLOAT), ("tags", listed(STR)))
)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "output", "is_async"),
    [
        ("Text", OutputSpec(STR), False),
        ("Files", OutputSpec(PATH, OutputKind.LIST), False),
        ("Numbers", OutputSpec(FLOAT, OutputKind.LIST), False),
        ("Tokens", OutputSpec(STR, OutputKind.ITERATOR), False),
        ("TypingTokens", OutputSpec(INT, OutputKind.ITERATOR), False),
        ("AsyncFiles", OutputSpec(PATH, OutputKind.ITERATOR), True),
        ("Concat", OutputSpec(STR, OutputKind.CONCATENATE_ITERATOR), False),
        ("AsyncConcat", OutputSpec(STR, OutputKind.CONCATENATE_ITERATOR), True),
        ("AsyncText", OutputSpec(STR), True),
        ("Structured", OutputSpec(FieldType(model=OUTPUT_MODEL)), False),
        ("PydanticStructured", OutputSpec(FieldType(model=RESULT_MODEL)), False),
        ("ManyResults", OutputSpec(FieldType(model=RESULT_MODEL), OutputKind.LIST), False),
        ("StreamedOutputs", OutputSpec(FieldType(model=OUTPUT_MODEL), OutputKind.ITERATOR), False),
        ("Mapping", OutputSpec(ANY), False),
        ("Anything", OutputSpec(ANY), False),
        ("OpaqueList", OutputSpec(ANY, OutputKind.LIST), False),
    ],
)
def test_output_kinds(load_fixture: Loader, name: str, output: OutputSpec, is_async: bool) -> None:
    sig = signature_of(load_fixture(f"outputs.py:{name}"), Mode.PREDICT)
    assert sig == Signature(
        mode=Mode.PREDICT,
        inputs=(),
        output=output,
        is_async=is_async,
    )


@pytest.mark.unit
def test_any_output_is_discouraged(load_fixture: Loader) -> None:
    sig = signature_of(load_fixture("outputs.py:Anything"), Mode.PREDICT)
    assert sig.warnings == (
        "Anything.run() return type: Any as output type is error-prone and highly discouraged",
    )


@pytest.mark.unit
def test_legacy_predictor_works_with_deprecation_notes(load_fixture: Loader) -> None:
    predictor = load_fixture("legacy.py:Predictor")
    sig = signature_of(predictor, Mode.PREDICT)
    assert sig == Signature(
        mode=Mode.PREDICT,
        inputs=(InputSpec("prompt", STR, description="Prompt"),),
        output=OutputSpec(STR),
        setup_takes_weights=True,
    )
    assert sig.warnings == (
        "Predictor.predict() is deprecated; use run() instead",
        "BasePredictor is deprecated; use BaseRunner instead",
    )
    assert isinstance(predictor, type)
    instance = predictor()
    assert entry_method(instance, Mode.PREDICT)(prompt="you") == "hello you"
    # BaseRunner.run() forwards to a legacy predict().
    assert instance.run(prompt="me") == "hello me"


@pytest.mark.unit
def test_plain_class_and_function_predictors(load_fixture: Loader) -> None:
    plain = signature_of(load_fixture("legacy.py:PlainPredictor"), Mode.PREDICT)
    assert plain == Signature(
        mode=Mode.PREDICT, inputs=(InputSpec("n", INT),), output=OutputSpec(INT)
    )
    assert plain.warnings == ("PlainPredictor.predict() is deprecated; use run() instead",)
    function = load_fixture("legacy.py:predict")
    assert signature_of(function, Mode.PREDICT) == Signature(
        mode=Mode.PREDICT, inputs=(InputSpec("text", STR),), output=OutputSpec(STR), is_class=False
    )
    assert entry_method(function, Mode.PREDICT) is function


@pytest.mark.unit
def test_train_function(load_fixture: Loader) -> None:
    train = load_fixture("train.py:train")
    assert signature_of(train, Mode.TRAIN) == Signature(
        mode=Mode.TRAIN,
        inputs=(
            InputSpec(
                "train_data", PATH, description="HTTPS URL of a file containing training data"
            ),
            InputSpec(
                "learning_rate",
                FLOAT,
                default=1e-4,
                description="learning rate, for learning!",
                ge=0.0,
            ),
            InputSpec("seed", INT, default=42, description="random seed to use for training"),
        ),
        output=OutputSpec(FieldType(model=ModelSpec("TrainingOutput", (("weights", PATH),)))),
        is_class=False,
    )


@pytest.mark.unit
def test_train_class(load_fixture: Loader) -> None:
    trainer = load_fixture("train.py:Trainer")
    assert signature_of(trainer, Mode.TRAIN) == Signature(
        mode=Mode.TRAIN, inputs=(InputSpec("param", STR),), output=OutputSpec(FILE)
    )
    assert isinstance(trainer, type)
    instance = trainer()
    assert entry_method(instance, Mode.TRAIN) == instance.train


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "streaming", "is_async"),
    [
        ("Bare", True, False),
        ("Called", True, False),
        ("Dotted", True, True),
        ("DottedCalled", True, True),
        ("Unmarked", False, False),
    ],
)
def test_streaming_spellings(
    load_fixture: Loader, name: str, streaming: bool, is_async: bool
) -> None:
    sig = signature_of(load_fixture(f"streaming.py:{name}"), Mode.PREDICT)
    assert sig.streaming is streaming
    assert sig.is_async is is_async


@pytest.mark.unit
def test_implicit_runner_name(load_fixture: Loader) -> None:
    loaded = load_fixture("inputs.py")
    assert isinstance(loaded, type)
    assert loaded.__name__ == "Runner"
    assert load_fixture("legacy.py").__name__ == "Predictor"  # type: ignore[attr-defined]


@pytest.mark.unit
def test_instance_is_accepted(load_fixture: Loader) -> None:
    cls = load_fixture("outputs.py:Text")
    assert isinstance(cls, type)
    assert signature_of(cls(), Mode.PREDICT) == signature_of(cls, Mode.PREDICT)


@pytest.mark.unit
def test_postponed_annotations(load_fixture: Loader) -> None:
    model = ModelSpec(
        "Segmentation",
        (
            ("success", BOOL),
            ("error", nullable(STR)),
            ("segmented_image", nullable(PATH)),
            ("labels", listed(STR)),
        ),
    )
    assert signature_of(load_fixture("postponed.py:Runner"), Mode.PREDICT) == Signature(
        mode=Mode.PREDICT,
        inputs=(InputSpec("image", PATH),),
        output=OutputSpec(FieldType(model=model)),
        setup_takes_weights=True,
    )
    assert signature_of(load_fixture("postponed.py:Streamer"), Mode.PREDICT) == Signature(
        mode=Mode.PREDICT,
        inputs=(InputSpec("prompt", STR, default="hi"),),
        output=OutputSpec(STR, OutputKind.ITERATOR),
        is_async=True,
        streaming=True,
    )
