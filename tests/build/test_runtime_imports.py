"""`cog build` names the imports a model relied on Cog 0.16 to bring along (requests...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog._runtime_imports import undeclared_runtime_imports


@pytest.mark.unit
def test_imports_the_model_set_lacks(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text(
        "import os\nimport requests\nimport yaml.constructor\nfrom pydantic import BaseModel\n"
        "from . import helpers\nfrom helpers import x\nimport torch\n"
    )
    (tmp_path / "helpers.py").write_text("import click\n")
    (tmp_path / "broken.py").write_text("import (\n")
    (tmp_path / "notes.txt").write_text("import requests\n")
    files = ["broken.py", "helpers.py", "notes.txt", "predict.py"]
    assert undeclared_runtime_imports(tmp_path, files, ["pydantic", "torch"]) == [
        ("helpers.py", "click", "click"),
        ("predict.py", "requests", "requests"),
        ("predict.py", "yaml", "pyyaml"),
    ]


@pytest.mark.unit
def test_a_local_module_of_that_name_is_the_models_own(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text("import yaml\n")
    (tmp_path / "yaml").mkdir()
    (tmp_path / "yaml" / "__init__.py").write_text("")
    files = ["predict.py", "yaml/__init__.py"]
    assert undeclared_runtime_imports(tmp_path, files, []) == []
