"""Published Cog projects, as they are, lock, build and predict here (issue 16).

Each fixture is written the way models on the reference were: keys of both generations of
cog.yaml, the 0.8-0.16 SDK API, a pydantic 1.10 model with a BaseModel output. One cache
for all of them, so the Debian indexes, debs and runtime wheels are fetched once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cog._container.image import load_image, resolve_tag

pytestmark = [pytest.mark.e2e, pytest.mark.network]

COG = str(Path(sys.executable).parent / "cog")
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def drop_in_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("drop-in-cache")


def cog(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COG_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"cog {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def lock_build(fixture: str, tmp_path: Path, cache: Path) -> tuple[Path, str]:
    project = tmp_path / Path(fixture).name
    shutil.copytree(FIXTURES / fixture, project)
    cog("lock", cwd=project, cache=cache)
    tag = f"127.0.0.1:5000/drop-in/{project.name}:test"
    cog("build", "-t", tag, cwd=project, cache=cache)
    return project, tag


def predict(project: Path, tag: str, cache: Path, *inputs: str) -> subprocess.CompletedProcess[str]:
    args = [arg for text in inputs for arg in ("-i", text)]
    return cog("predict", tag, *args, cwd=project, cache=cache)


def test_every_key_of_both_generations(drop_in_cache: Path, tmp_path: Path) -> None:
    project, tag = lock_build("config/every-key", tmp_path, drop_in_cache)
    done = predict(project, tag, drop_in_cache, "text=hi")
    assert done.stdout.strip() == "hello hi (tiny weights)"
    assert "error" not in done.stderr.lower()


def test_old_api_model(drop_in_cache: Path, tmp_path: Path) -> None:
    project, tag = lock_build("e2e/old-api", tmp_path, drop_in_cache)
    done = predict(project, tag, drop_in_cache, "text=hi")
    assert done.stdout.strip() == "hihi (weights=None, extra=None, seed=None)"
    # The log stream's own end is not a failed webhook (nor anything else).
    assert "WARNING" not in done.stderr, done.stderr
    schema = json.loads(cog("schema", cwd=project, cache=drop_in_cache).stdout)
    inputs = schema["components"]["schemas"]["Input"]
    assert inputs["required"] == ["text"]
    assert inputs["properties"]["extra"] == {
        "x-order": 2,
        "title": "Extra",
        "type": "string",
        "format": "uri",
        "description": "An optional file",
    }


def _label_schema(project: Path, tag: str) -> dict[str, Any]:
    layout = project / ".cog" / "image"
    image = load_image(layout, resolve_tag(layout, tag))
    schema: dict[str, Any] = json.loads(image.config.labels["run.cog.openapi_schema"])
    return schema


def test_choices_from_an_installed_package(drop_in_cache: Path, tmp_path: Path) -> None:
    project = tmp_path / "choices-from-import"
    shutil.copytree(FIXTURES / "e2e" / "choices-from-import", project)
    env = os.environ | {"COG_CACHE_DIR": str(drop_in_cache), "NO_COLOR": "1"}
    refused = subprocess.run(
        [COG, "schema"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert refused.returncode == 1
    assert "run `cog build`" in refused.stderr
    assert "STYLE_MAP.keys()" in refused.stderr
    project, tag = lock_build("e2e/choices-from-import", tmp_path / "built", drop_in_cache)
    schemas = _label_schema(project, tag)["components"]["schemas"]
    assert {"default", "monokai"} <= set(schemas["style"]["enum"])
    assert schemas["Input"]["properties"]["style"]["default"] == "default"
    assert predict(project, tag, drop_in_cache, "style=monokai").stdout.strip() == "style monokai"
    again = cog("build", "-t", tag, cwd=project, cache=drop_in_cache).stdout.split()[-1]
    assert again == resolve_tag(project / ".cog" / "image", tag)


def test_pydantic1_model_pinning_what_the_runtime_uses(drop_in_cache: Path, tmp_path: Path) -> None:
    # pydantic 1.10, click 7 and requests 2.25 would each conflict with the runtime's own
    # pins if the two were resolved together; apart, the model gets exactly what it pins.
    project, tag = lock_build("e2e/pydantic1", tmp_path, drop_in_cache)
    lock = (project / "cog.lock").read_text()
    assert 'name = "pydantic"\nversion = "1.10.13"' in lock
    done = predict(project, tag, drop_in_cache, "text=hi")
    assert json.loads(done.stdout) == {
        "text": "HI",
        "pydantic_version": "1.10.13",
        "click_version": "7.1.2",
        "requests_version": "2.25.1",
        "runtime_on_path": False,
    }
    schema = _label_schema(project, tag)["components"]["schemas"]["Output"]
    assert schema["properties"]["pydantic_version"] == {
        "title": "Pydantic Version",
        "type": "string",
    }


def test_a_model_that_cannot_import_in_its_image(drop_in_cache: Path, tmp_path: Path) -> None:
    # Its requirement missing from cog.yaml: the image's Python says so, not the host's.
    project = tmp_path / "missing-requirement"
    shutil.copytree(FIXTURES / "e2e" / "choices-from-import", project)
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'
    )
    cog("lock", cwd=project, cache=drop_in_cache)
    env = os.environ | {"COG_CACHE_DIR": str(drop_in_cache), "NO_COLOR": "1"}
    done = subprocess.run(
        [COG, "build"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "error: importing predict.py:Predictor in the image (sha256:" in done.stderr
    assert "ModuleNotFoundError: No module named 'pygments'" in done.stderr
