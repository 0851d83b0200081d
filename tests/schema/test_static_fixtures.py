"""Every fixture model, read from source only, renders the hand-written document."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from cog._signature.model import Mode
from cog._signature.openapi import openapi_document
from cog._signature.static import signature_from_source

from ._fixtures import MODELS, expected_predict_document, fixture_ref, load_json, predict_cases


@pytest.mark.unit
@pytest.mark.parametrize("case", predict_cases())
def test_fixture_document_is_the_expected_one(case: str) -> None:
    ref, expected = expected_predict_document(case)
    signature = signature_from_source(MODELS / case, ref, Mode.PREDICT)
    assert openapi_document(signature, None) == expected


@pytest.mark.unit
def test_fixture_cases_cover_every_kind() -> None:
    # A fixture silently dropped (renamed expected.json) would shrink the test above.
    assert len(predict_cases()) == 24


@pytest.mark.unit
def test_train_function_document() -> None:
    signature = signature_from_source(MODELS / "train_function", "train.py:train", Mode.TRAIN)
    assert not signature.is_class
    expected = load_json(MODELS / "train_function" / "document.json")
    assert openapi_document(None, signature) == expected


@pytest.mark.unit
def test_trainer_class_next_to_a_runner() -> None:
    project = MODELS / "trainer_class"
    predict = signature_from_source(project, "run.py:Runner", Mode.PREDICT)
    train = signature_from_source(project, "train.py:Trainer", Mode.TRAIN)
    assert train.is_class
    expected = load_json(project / "document.json")
    assert openapi_document(predict, train) == expected


@pytest.mark.unit
def test_legacy_predictor_reads_setup_weights_and_warns() -> None:
    signature = signature_from_source(
        MODELS / "legacy_predict", "predict.py:Predictor", Mode.PREDICT
    )
    assert signature.setup_takes_weights
    assert not signature.is_async
    assert set(signature.warnings) == {
        "Predictor.predict() is deprecated; use run() instead",
        "BasePredictor is deprecated; use BaseRunner instead",
    }


@pytest.mark.unit
def test_method_inherited_from_a_local_module() -> None:
    signature = signature_from_source(MODELS / "inherited", "run.py:Runner", Mode.PREDICT)
    assert signature.is_async
    assert signature.setup_takes_weights
    assert signature.warnings == ()


@pytest.mark.unit
def test_reference_without_a_name_finds_the_runner() -> None:
    named = signature_from_source(MODELS / "str_input", "run.py:Runner", Mode.PREDICT)
    assert signature_from_source(MODELS / "str_input", "run.py", Mode.PREDICT) == named


@pytest.mark.unit
@pytest.mark.parametrize(
    ("case", "is_async", "streaming"),
    [
        ("iterator", False, True),
        ("async_iterator", True, True),
        ("iterator_not_streaming", False, False),
        ("concatenate", False, True),
        ("async_concatenate", True, True),
    ],
)
def test_iterator_flags(case: str, is_async: bool, streaming: bool) -> None:
    signature = signature_from_source(MODELS / case, "run.py:Runner", Mode.PREDICT)
    assert (signature.is_async, signature.streaming) == (is_async, streaming)


@pytest.mark.unit
def test_nothing_from_the_models_is_imported() -> None:
    refs = [
        (
            case,
            fixture_ref(case),
            Mode.PREDICT,
        )
        for case in predict_cases()
    ]
    refs += [
        ("train_function", "train.py:train", Mode.TRAIN),
        ("trainer_class", "train.py:Trainer", Mode.TRAIN),
    ]
    for case, ref, mode in refs:
        signature_from_source(MODELS / case, ref, mode)
    # The fixtures import these; they are not installed, so reading them cannot import.
    for package in ("torch", "vllm", "transformers", "openai", "PIL"):
        assert importlib.util.find_spec(package) is None
    for module in ("run", "predict", "train", "results", "base"):
        assert module not in sys.modules
