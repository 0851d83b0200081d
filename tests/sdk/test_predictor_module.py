"""The reference's ``cog.predictor`` and ``cog.errors`` names, driving a model by hand."""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import cog
from cog import predictor
from cog.errors import CogError, ConfigDoesNotExist, PredictorNotSet

pytestmark = pytest.mark.unit

MODEL = """
import sys
from typing import Optional
from cog import BasePredictor, Path

ARGV = list(sys.argv)

class Predictor(BasePredictor):
    def setup(self, weights: Optional[Path] = None) -> None:
        self.weights = weights.read_text() if weights else "none"

    def predict(self, text: str = "x") -> str:
        return f"{self.weights}:{text}"

def plain(text: str) -> str:
    return text.upper()
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "predict.py").write_text(MODEL)
    (tmp_path / "cog.yaml").write_text(
        "build:\n  python_version: '3.11'\npredict: predict.py:Predictor\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["prog", "--flag"])
    yield tmp_path
    sys.modules.pop("predict", None)


def test_load_config_and_predictor_then_run_setup(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = predictor.load_config()
    assert config["predict"] == "predict.py:Predictor"
    model = predictor.load_predictor(config)
    assert sys.modules["predict"].ARGV == ["prog"]  # the model's argparse sees no flags
    assert sys.argv == ["prog", "--flag"]
    weights = "data:text/plain;base64," + base64.b64encode(b"w8").decode()
    monkeypatch.setenv("COG_WEIGHTS", weights)
    predictor.run_setup(model)
    assert predictor.get_predict(model)(text="y") == "w8:y"
    assert predictor.get_weights_type(model.setup) is cog.Path


def test_functions_and_refs(project: Path) -> None:
    function = predictor.load_predictor_from_ref("predict.py:plain")
    assert predictor.get_predict(function)("a") == "A"
    assert predictor.get_train(function) is function
    assert predictor.get_predictor_ref({"run": "run.py:Runner"}) == "run.py:Runner"
    assert predictor.get_predictor_ref({"train": "t.py:T"}, "train") == "t.py:T"
    with pytest.raises(ValueError, match="Invalid mode: serve"):
        predictor.get_predictor_ref({}, "serve")
    with pytest.raises(PredictorNotSet, match=r"'train' option not found in cog\.yaml"):
        predictor.get_predictor_ref({"predict": "p.py:P"}, "train")


def test_missing_cog_yaml_is_config_does_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigDoesNotExist, match="Could not find") as caught:
        predictor.load_config()
    assert isinstance(caught.value, CogError)  # the project's errors render it


def test_type_names() -> None:
    assert predictor.human_readable_type_name(str) == "str"
    assert predictor.human_readable_type_name(cog.Path) == "cog.Path"
    assert predictor.readable_types_list([int, cog.Secret]) == "int, cog.Secret"
    assert cog.Secret in predictor.ALLOWED_INPUT_TYPES
