"""project_schema: static first; a real subprocess imports the model only when needed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cog._signature.model import Mode
from cog._signature.project_schema import (
    SchemaNeedsBuildError,
    _imported_signature,
    project_schema,
    subprocess_importer,
)
from cog._signature.static import StaticAnalysisUndecided, signature_from_source
from cog.errors import SchemaError

from ._fixtures import MODELS, expected_predict_document, fixture_ref, load_json, predict_cases


@pytest.mark.unit
def test_static_path_needs_no_import_and_passes_warnings_on() -> None:
    result = project_schema(MODELS / "legacy_predict", "predict.py:Predictor", None)
    assert not result.used_fallback
    assert result.train is None
    assert result.predict is not None
    assert result.document == expected_predict_document("legacy_predict")[1]
    assert set(result.notes) == {
        "predict.py:Predictor: Predictor.predict() is deprecated; use run() instead",
        "predict.py:Predictor: BasePredictor is deprecated; use BaseRunner instead",
    }


@pytest.mark.unit
def test_predict_and_train_together() -> None:
    project = MODELS / "trainer_class"
    result = project_schema(project, "run.py:Runner", "train.py:Trainer")
    assert result.document == load_json(project / "document.json")
    assert result.train is not None
    assert result.train.mode is Mode.TRAIN


@pytest.mark.unit
def test_nothing_to_run(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="names no model to run"):
        project_schema(tmp_path, None, None)


@pytest.mark.integration
def test_undecided_annotation_is_read_by_importing_the_model() -> None:
    project = MODELS / "fallback"
    with pytest.raises(StaticAnalysisUndecided):
        signature_from_source(project, "run.py:Runner", Mode.PREDICT)
    with pytest.raises(SchemaNeedsBuildError) as needs:
        project_schema(project, "run.py:Runner", None)  # nothing may import it: a build must
    assert str(needs.value) == (
        "run.py:Runner: the source alone does not decide the signature (run.py:14: the type "
        "`Text` of input 'prompt' comes from 'textlib.Text', which cannot be read without "
        "importing it)\nThis project's schema is read inside its image, where the model's "
        "dependencies are: run `cog build`, and the image carries it (label "
        "run.cog.openapi_schema; `cog serve` serves it at /openapi.json)."
    )
    importer = subprocess_importer(project, sys.executable)
    result = project_schema(
        project, "run.py:Runner", None, import_model=importer, where=f"with {sys.executable}"
    )
    assert result.used_fallback
    assert result.document == expected_predict_document("fallback")[1]
    assert result.notes == (
        "run.py:Runner: the source alone did not decide the signature (run.py:14: the type "
        "`Text` of input 'prompt' comes from 'textlib.Text', which cannot be read without "
        f"importing it); read it by importing the model with {sys.executable}",
    )
    assert "textlib" not in sys.modules


@pytest.mark.integration
def test_import_failure_is_reported_with_the_models_traceback(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text(
        "import torch\nfrom cog import BaseRunner\n"
        "class Runner(BaseRunner):\n"
        "    def run(self, x: torch.Tensor) -> str:\n"
        "        return ''\n",
        encoding="utf-8",
    )
    with pytest.raises(SchemaError) as caught:
        project_schema(
            tmp_path,
            "run.py:Runner",
            None,
            import_model=subprocess_importer(tmp_path, sys.executable),
        )
    assert caught.value.message.startswith(
        f"importing run.py:Runner with {sys.executable} to read its signature failed "
        "(exit status 1):\n"
    )
    assert "No module named 'torch'" in caught.value.message


@pytest.mark.integration
def test_model_error_found_by_importing_is_a_schema_error(tmp_path: Path) -> None:
    shutil.copytree(MODELS / "fallback", tmp_path / "model")
    (tmp_path / "model" / "vendor" / "textlib.py").write_text("Text = tuple\n", encoding="utf-8")
    importer = subprocess_importer(tmp_path / "model", sys.executable)
    with pytest.raises(SchemaError) as caught:
        project_schema(tmp_path / "model", "run.py:Runner", None, import_model=importer)
    assert not isinstance(caught.value, SchemaNeedsBuildError)
    assert not caught.value.message.startswith("importing")
    assert "prompt" in caught.value.message


@pytest.mark.integration
def test_fallback_usage() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cog._signature.fallback", "only-one-arg"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: python -m cog._signature.fallback")


_THIRD_PARTY_IMPORT = re.compile(
    r"^import (torch|numpy as np|openai|vllm|transformers|PIL\.Image)\b.*$", re.M
)
_AGREEMENT_CASES = [
    (case, fixture_ref(case), Mode.PREDICT)
    for case in predict_cases()
    if case != "opaque"  # its annotation needs vllm itself
] + [
    ("train_function", "train.py:train", Mode.TRAIN),
    ("trainer_class", "train.py:Trainer", Mode.TRAIN),
]


@pytest.mark.integration
@pytest.mark.parametrize(("case", "ref", "mode"), _AGREEMENT_CASES)
def test_source_and_import_agree(tmp_path: Path, case: str, ref: str, mode: Mode) -> None:
    # The same model read both ways: from the source, and by importing it (with the
    # uninstalled third-party imports removed so that it can be imported here).
    project = tmp_path / case
    shutil.copytree(MODELS / case, project)
    for path in project.glob("*.py"):
        path.write_text(_THIRD_PARTY_IMPORT.sub("", path.read_text(encoding="utf-8")))
    static = signature_from_source(project, ref, mode)
    imported = _imported_signature(project, ref, mode, sys.executable)
    assert imported == static
