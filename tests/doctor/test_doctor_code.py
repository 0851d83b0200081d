"""cog doctor's code checks (the reference's), through the CLI: what each says, what --fix does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cog.cli.main import cli

pytestmark = pytest.mark.unit

CONFIG = 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n'
EFW_MODEL = """import warnings

from cog import BaseRunner
from cog.types import ExperimentalFeatureWarning, Path

warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)


class Runner(BaseRunner):
    def run(self) -> Path:
        return Path("x")
"""
PYDANTIC_MODEL = '''"""A model with a structured output."""

from cog import BaseRunner, Path
from pydantic import BaseModel, ConfigDict, Field


class Output(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    image: Path
    score: float = Field(ge=0)


class Runner(BaseRunner):
    def run(self) -> Output:
        return Output(image=Path("x"), score=1.0)
'''
LEGACY_MODEL = """from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, name: str) -> str:
        return "hello " + name
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cog.yaml").write_text(CONFIG)
    monkeypatch.setenv("COG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COG_SKIP_DOCKER_CHECK", "1")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _doctor(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["doctor", *args])
    assert result.stdout == ""  # findings go to stderr, as the reference writes them
    assert "Traceback" not in result.stderr
    return result


def _lines(result: Result, check: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if f" {check}: " in line]


def test_a_removed_import_fails_and_fix_removes_it_and_its_uses(project: Path) -> None:
    (project / "run.py").write_text(EFW_MODEL)
    found = _doctor()
    assert found.exit_code == 1
    assert _lines(found, "python-deprecated-imports") == [
        "FAILED python-deprecated-imports: run.py:4: ExperimentalFeatureWarning was removed in "
        "cog 0.17; current_scope().record_metric() is no longer experimental"
    ]
    assert "       Remove the import of ExperimentalFeatureWarning from cog.types" in found.stderr
    fixed = _doctor("--fix")
    assert "fixed  python-deprecated-imports: run.py:4: rewrote run.py" in fixed.stderr
    assert (project / "run.py").read_text() == (
        "from cog import BaseRunner\nfrom cog.types import Path\n\n\n"
        'class Runner(BaseRunner):\n    def run(self) -> Path:\n        return Path("x")\n'
    )
    assert _lines(_doctor(), "python-deprecated-imports") == []


def test_cog_file_is_a_warning_not_a_failure(project: Path) -> None:
    (project / "run.py").write_text(
        "from cog import BaseRunner, File\n\n\nclass Runner(BaseRunner):\n"
        "    def run(self, f: File) -> str:\n        return f.read()\n"
    )
    found = _doctor()
    assert _lines(found, "python-deprecated-imports") == [
        "WARN   python-deprecated-imports: run.py:1: cog.File is deprecated and will be removed "
        "in a future version of Cog; use cog.Path instead"
    ]
    assert found.exit_code == 0


def test_pydantic_base_model_with_arbitrary_types_becomes_cog_base_model(project: Path) -> None:
    (project / "run.py").write_text(PYDANTIC_MODEL)
    found = _doctor()
    assert found.exit_code == 1
    assert _lines(found, "python-pydantic-basemodel") == [
        "FAILED python-pydantic-basemodel: run.py:7: Output inherits from pydantic.BaseModel "
        "with arbitrary_types_allowed; use cog.BaseModel instead"
    ]
    assert (
        "       Replace pydantic.BaseModel with cog.BaseModel and remove "
        "ConfigDict(arbitrary_types_allowed=True)"
    ) in found.stderr
    _doctor("--fix")
    text = (project / "run.py").read_text()
    assert text.startswith('"""A model with a structured output."""\n\n')
    assert "from cog import BaseRunner, Path, BaseModel\n" in text
    assert "from pydantic import Field\n" in text
    assert "class Output(BaseModel):\n\n    image: Path\n" in text
    assert "arbitrary_types_allowed" not in text
    ast.parse(text)
    assert _lines(_doctor(), "python-pydantic-basemodel") == []


def test_a_pydantic_model_without_arbitrary_types_is_left_alone(project: Path) -> None:
    (project / "run.py").write_text(PYDANTIC_MODEL.replace("arbitrary_types_allowed=True", ""))
    assert _lines(_doctor(), "python-pydantic-basemodel") == []


def test_predict_names_are_migrated_to_run(project: Path) -> None:
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    (project / "predict.py").write_text(LEGACY_MODEL)
    found = _doctor()
    assert _lines(found, "predict-to-run-migration") == [
        "WARN   predict-to-run-migration: cog.yaml: predict in cog.yaml is deprecated; "
        "use run with run.py:Runner",
        "WARN   predict-to-run-migration: predict.py: predict.py uses deprecated "
        "Predictor/BasePredictor/predict() names",
    ]
    assert "       Run cog doctor --fix to migrate predict: to run:" in found.stderr
    assert "       Run cog doctor --fix to migrate to Runner/BaseRunner/run()" in found.stderr
    _doctor("--fix")
    assert not (project / "predict.py").exists()
    assert (project / "run.py").read_text() == (
        "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
        '    def run(self, name: str) -> str:\n        return "hello " + name\n'
    )
    assert (project / "cog.yaml").read_text().endswith('run: "run.py:Runner"\n')
    assert _lines(_doctor(), "predict-to-run-migration") == []


def test_a_predict_ref_that_is_not_the_starter_needs_a_manual_migration(project: Path) -> None:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.11"\npredict: "m.py:Model"\n')
    (project / "m.py").write_text(LEGACY_MODEL.replace("Predictor(", "Model("))
    fixed = _doctor("--fix")
    assert fixed.exit_code == 1
    assert (
        "FAILED predict-to-run-migration: could not fix: Manual migration required: automatic "
        "migration only supports predict.py:Predictor"
    ) in fixed.stderr
    assert (project / "m.py").exists()


def test_a_runner_class_that_does_not_exist_is_named(project: Path) -> None:
    (project / "run.py").write_text("class Other:\n    pass\n\n\nclass Another:\n    pass\n")
    found = _doctor()
    assert found.exit_code == 1
    assert _lines(found, "config-predict-ref") == [
        'FAILED config-predict-ref: run.py: class "Runner" not found in run.py; '
        "found: Other, Another"
    ]
    assert "       Add class Runner to run.py or update the run field in cog.yaml" in found.stderr


def test_a_missing_return_annotation_is_a_warning(project: Path) -> None:
    (project / "run.py").write_text(
        "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
        "    def run(self, name: str):\n        return name\n"
    )
    found = _doctor()
    assert _lines(found, "python-missing-type-annotations") == [
        "WARN   python-missing-type-annotations: run.py:5: Runner.run() is missing a return "
        "type annotation"
    ]
    assert "       Add a return type annotation: def run(self, ...) -> YourType:" in found.stderr


def test_a_runner_imported_or_defined_under_an_if_is_found(project: Path) -> None:
    (project / "model.py").write_text("class Runner:\n    pass\n")
    (project / "run.py").write_text("from model import Runner as Runner\n")
    assert _lines(_doctor(), "config-predict-ref") == []
    (project / "run.py").write_text("import sys\n\nif sys:\n    class Runner:\n        pass\n")
    assert _lines(_doctor(), "config-predict-ref") == []


def test_legacy_build_keys_are_deprecation_warnings(project: Path) -> None:
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  python_packages:\n    - "six==1.16.0"\n'
        '  pre_install:\n    - "echo hi"\nrun: "run.py:Runner"\n'
    )
    (project / "run.py").write_text(
        "from cog import BaseRunner\n\n\nclass Runner(BaseRunner):\n"
        "    def run(self) -> str:\n        return ''\n"
    )
    found = _doctor()
    assert _lines(found, "config-deprecated-fields") == [
        'WARN   config-deprecated-fields: cog.yaml: "python_packages" is deprecated: list the '
        "packages in a requirements file",
        'WARN   config-deprecated-fields: cog.yaml: "pre_install" is deprecated: build.run runs '
        "commands during the build",
    ]
    assert '       Use "python_requirements" instead' in found.stderr


def test_fixes_to_predict_py_land_in_the_run_py_it_becomes(project: Path) -> None:
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    (project / "predict.py").write_text(
        "from cog.types import ExperimentalFeatureWarning\n" + LEGACY_MODEL
    )
    fixed = _doctor("--fix")
    assert "fixed  python-deprecated-imports: predict.py:1: rewrote predict.py" in fixed.stderr
    assert "fixed  predict-to-run-migration: cog.yaml: moved predict.py to run.py" in fixed.stderr
    assert (project / "run.py").read_text().startswith("from cog import BaseRunner\n")
    assert "ExperimentalFeatureWarning" not in (project / "run.py").read_text()
    assert fixed.exit_code == 0, fixed.stderr
