"""Every unsupported pattern is a SchemaError naming the place, the problem and the fix."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cog._signature.introspect import load_entrypoint, signature_of
from cog._signature.model import Mode
from cog.errors import SchemaError

Loader = Callable[[str], object]

CASES = [
    # (class, fragments the message must contain, fragment the hint must contain)
    ("NestedList", ["input 'grid'", "list[list[str]]", "nested generics"], "flat list[T]"),
    ("ListOfOptional", ["input 'names'", "nested generics"], "flat list[T]"),
    ("OptionalListOfOptional", ["input 'names'", "nested generics"], "flat list[T]"),
    ("OptionalOpaqueReturn", ["return type", "Optional is not allowed"], "Optional[Annotated"),
    ("UnionWithPath", ["input 'source'", "Path", "not supported"], "JSON-native"),
    ("UnionWithFile", ["input 'source'", "File"], "JSON-native"),
    ("UnionWithSecret", ["input 'key'", "Secret"], "JSON-native"),
    ("UnionWithModel", ["input 'data'", "Inner"], "JSON-native"),
    ("NestedModelField", ["field 'inner' of Nested", "nested BaseModel"], "Flatten"),
    ("ModelUnionField", ["field 'value' of UnionField", "union"], "Optional[T] is fine"),
    ("TupleInput", ["input 'pair'", "only list and dict"], "list[T]"),
    ("SetInput", ["input 'tags'", "only list and dict"], "list[T]"),
    ("TupleReturn", ["return type", "only list and dict"], "list[T]"),
    ("ModelInput", ["input 'data'", "BaseModel type Inner"], "not an input"),
    ("EnumInput", ["input 'color'", "enum type Color"], "choices"),
    ("ConcatModels", ["return type", "BaseModel type Inner"], "an output"),
    ("MissingReturn", ["MissingReturn.run()", "return type annotation"], "-> str"),
    ("ReturnsNone", ["ReturnsNone.run()", "return type annotation"], "-> str"),
    ("MissingAnnotation", ["input 'x'", "no type annotation"], "x: str"),
    ("VarArgs", ["input 'values'", "*args"], "named parameter"),
    ("IteratorOfOptional", ["return type", "must not be Optional or a union"], "a list of those"),
    ("UnionWithIteratorReturn", ["return type", "an iterator must be the whole"], "Iterator[T]"),
    ("BothMethods", ["BothMethods must define either run() or predict()"], "delete predict()"),
    ("NoMethod", ["run or predict method not found: NoMethod"], "def run(self"),
    ("SetupArgs", ["SetupArgs.setup()", "'device'"], "'weights'"),
    ("StreamingSingle", ["@streaming", "does not return an iterator"], "Iterator[T]"),
    ("ConcatInts", ["return type", "must have str elements"], "ConcatenateIterator[str]"),
    ("GeOnString", ["input 'text'", "ge/le only applies to int or float"], "Remove ge/le"),
    ("LengthOnInt", ["input 'n'", "min_length/max_length only applies to str"], "Remove"),
    ("RegexOnInt", ["input 'n'", "regex only applies to str"], "Remove regex"),
    ("OneChoice", ["input 'color'", "at least 2"], "two or more"),
    ("FloatChoices", ["input 'ratio'", "choices only applies to str or int"], "Remove choices"),
    ("MixedChoices", ["input 'size'", "same type"], "every choice"),
    ("ChoicesAndGe", ["input 'size'", "mutually exclusive"], "Keep one"),
    ("DefaultBelowGe", ["input 'steps'", "below ge=1"], "default"),
    ("DefaultAboveLe", ["input 'steps'", "above le=10"], "default"),
    ("DefaultTooLong", ["input 'name'", "max_length=3"], "default"),
    ("DefaultNotMatching", ["input 'name'", "does not match regex"], "default"),
    ("DefaultWrongType", ["input 'n'", "'three' is not a valid int"], "type annotation"),
    ("ListDefaultNotList", ["input 'words'", "is not a list"], "Input(default=[])"),
    ("UnresolvableAnnotation", ["cannot resolve a type annotation", "Undefined"], "Import"),
]


@pytest.mark.unit
@pytest.mark.parametrize(("name", "fragments", "hint"), CASES, ids=[c[0] for c in CASES])
def test_unsupported_pattern(
    load_fixture: Loader, name: str, fragments: list[str], hint: str
) -> None:
    target = load_fixture(f"unsupported.py:{name}")
    with pytest.raises(SchemaError) as caught:
        signature_of(target, Mode.PREDICT)
    for fragment in fragments:
        assert fragment in caught.value.message
    assert caught.value.hint is not None
    assert hint in caught.value.hint
    assert name in caught.value.message  # names the class


@pytest.mark.unit
def test_train_mode_needs_train(load_fixture: Loader) -> None:
    with pytest.raises(SchemaError, match=r"NoTrain has no train\(\) method") as caught:
        signature_of(load_fixture("unsupported.py:NoTrain"), Mode.TRAIN)
    assert caught.value.hint is not None
    assert "train:" in caught.value.hint


@pytest.mark.unit
def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SchemaError, match=r"cannot load 'nope.py:Runner'") as caught:
        load_entrypoint(tmp_path, "nope.py:Runner")
    assert str(tmp_path / "nope.py") in caught.value.message
    assert caught.value.hint is not None
    assert "cog.yaml" in caught.value.hint


@pytest.mark.unit
def test_missing_name(load_fixture: Loader) -> None:
    with pytest.raises(SchemaError, match=r"legacy.py has no 'Runner'") as caught:
        load_fixture("legacy.py:Runner")
    assert caught.value.hint is not None
    assert "Define Runner in legacy.py" in caught.value.hint


@pytest.mark.unit
def test_module_errors_propagate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    (tmp_path / "broken_model_a.py").write_text("import not_a_module_anywhere\n")
    with pytest.raises(ModuleNotFoundError, match="not_a_module_anywhere"):
        load_entrypoint(tmp_path, "broken_model_a.py:Runner")
    assert "broken_model_a" not in sys.modules  # no half-imported module left behind
    assert sys.path[0] == str(tmp_path.resolve())


@pytest.mark.unit
def test_default_outside_choices_is_a_warning(load_fixture: Loader) -> None:
    # The reference builds such a model; every request that omits the input then fails.
    sig = signature_of(load_fixture("unsupported.py:DefaultNotAChoice"), Mode.PREDICT)
    assert sig.inputs[0].default == "pink"
    assert sig.warnings == (
        "DefaultNotAChoice.run() input 'color': default 'pink' is not one of the choices "
        "['red', 'blue'], so a request that leaves it out will be rejected",
    )


@pytest.mark.unit
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("RejectedNegativeMinLength", "Input(min_length=...) must be a non-negative integer"),
        ("RejectedNumericDescription", "Input(description=...) must be a string, not 3"),
        ("RejectedBoolBound", "Input(ge=...) must be a number, not True"),
        ("RejectedNumericRegex", "Input(regex=...) must be a string, not 3"),
        ("RejectedIntDeprecated", "Input(deprecated=...) must be True or False, not 1"),
    ],
)
def test_input_keywords_of_the_wrong_type(load_fixture: Loader, name: str, message: str) -> None:
    # Found by running both readers over every fixture: the static reader refused these
    # while the worker took them (and a numeric regex crashed it with a TypeError).
    with pytest.raises(SchemaError) as caught:
        signature_of(load_fixture(f"edge_cases.py:{name}"), Mode.PREDICT)
    assert f"{name}.run() input " in caught.value.message
    assert message in caught.value.message
    assert caught.value.hint is not None
