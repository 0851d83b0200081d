"""Valid cog.yaml files, current and legacy, load into the Config they describe."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from cog.config import (
    BuildConfig,
    Config,
    RunCommand,
    SecretMount,
    WeightsSource,
    load_config,
)

CURRENT = """\
build:
  gpu: true
  cuda: "12.4"
  system_packages:
    - "libgl1"
    - "libglib2.0-0"
  python_version: "3.12.4"
  python_requirements: requirements.txt
  run:
    - "echo env is ready!"
    - command: pip install private-pkg
      mounts:
        - type: secret
          id: pip
          target: /etc/pip.conf
  base_image: "my-registry.example:5000/python:3.12"
run: "run.py:Runner"
train: "train.py:train"
image: "my-registry.example:5000/me/model"
concurrency:
  max: 4
environment:
  - "HF_HOME=/src/hf"
  - "EMPTY="
  - "WITH_EQUALS=a=b"
weights:
  - weights/model.safetensors
  - source: weights/extra
    target: /src/extra
"""

LEGACY = """\
build:
  python_version: 3.10
  cuda: 11.8
  cudnn: 8
  python_packages:
    - "pillow==8.3.1"
    - "git+https://example.invalid/x.git@2d1602a#egg=x"
  pre_install:
    - "echo before"
  system_packages:
    - ffmpeg
predict: "predict.py:Predictor"
"""
CURRENT_FILES = (
    "requirements.txt",
    "run.py",
    "train.py",
    "weights/model.safetensors",
    "weights/extra/a",
)


def _write(tmp_path: Path, text: str, *files: str) -> Path:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    (tmp_path / "cog.yaml").write_text(text)
    return tmp_path / "cog.yaml"


@pytest.mark.unit
def test_current_keys(tmp_path: Path) -> None:
    files = CURRENT_FILES
    path = _write(tmp_path, CURRENT, *files)
    assert load_config(path) == Config(
        path=path,
        project_dir=tmp_path,
        build=BuildConfig(
            python_version="3.12.4",
            python_requirements="requirements.txt",
            system_packages=("libgl1", "libglib2.0-0"),
            gpu=True,
            cuda="12.4",
            run=(
                RunCommand(command="echo env is ready!"),
                RunCommand(
                    command="pip install private-pkg",
                    mounts=(SecretMount(id="pip", target="/etc/pip.conf"),),
                ),
            ),
            base_image="my-registry.example:5000/python:3.12",
        ),
        predict="run.py:Runner",
        train="train.py:train",
        image="my-registry.example:5000/me/model",
        concurrency_max=4,
        environment={"HF_HOME": "/src/hf", "EMPTY": "", "WITH_EQUALS": "a=b"},
        weights=(
            WeightsSource(path="weights/model.safetensors"),
            WeightsSource(path="weights/extra", target="/src/extra"),
        ),
    )


@pytest.mark.unit
def test_legacy_keys_and_unquoted_versions(tmp_path: Path) -> None:
    path = _write(tmp_path, LEGACY, "predict.py")
    config = load_config(path)
    # Unquoted 3.10 is the float 3.1 to YAML; the user meant 3.10.
    assert config.build == BuildConfig(
        python_version="3.10",
        cuda="11.8",
        cudnn="8",
        python_packages=("pillow==8.3.1", "git+https://example.invalid/x.git@2d1602a#egg=x"),
        pre_install=("echo before",),
        system_packages=("ffmpeg",),
    )
    assert config.predict == "predict.py:Predictor"
    assert config.requirements() == config.build.python_packages


@pytest.mark.unit
def test_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "build:\n  python_version:\n")
    config = load_config(path)
    assert config == Config(path=path, project_dir=tmp_path)
    assert config.build.python_version == "3.13"
    assert config.concurrency_max == 1
    assert config.predict is None
    assert config.requirements() == ()


@pytest.mark.unit
def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "# nothing yet\n")
    assert load_config(path) == Config(path=path, project_dir=tmp_path)


@pytest.mark.unit
def test_environment_mapping_keeps_text_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, "environment:\n  A: on\n  B: 08\n  C: 1.10\n  D: 'quoted'\n")
    assert load_config(path).environment == {"A": "on", "B": "08", "C": "1.10", "D": "quoted"}


@pytest.mark.unit
def test_relative_path_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "build:\n  gpu: false\n")
    config = load_config(Path("cog.yaml"))
    assert config.path == tmp_path / "cog.yaml"
    assert config.project_dir == tmp_path


@pytest.mark.unit
def test_merge_keys_resolve(tmp_path: Path) -> None:
    path = _write(tmp_path, "build:\n  <<: {gpu: true}\n  python_version: '3.11'\n")
    config = load_config(path)
    assert config.build.gpu is True
    assert config.build.python_version == "3.11"


@pytest.mark.unit
def test_config_is_frozen(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""))
    with pytest.raises(pydantic.ValidationError):
        config.image = "x"


@pytest.mark.unit
def test_requirements_file_lines(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# models\n--extra-index-url https://index.example.invalid/simple\n"
        "torch==2.6.0  # the big one\n\nnumpy>=2 \\\n  ,<3\n-r more.txt\n"
        "git+https://example.invalid/x.git#egg=x\n"
    )
    (tmp_path / "more.txt").write_text("pillow\n")
    path = _write(tmp_path, "build:\n  python_requirements: requirements.txt\n")
    assert load_config(path).requirements() == (
        "--extra-index-url https://index.example.invalid/simple",
        "torch==2.6.0",
        "numpy>=2   ,<3",
        "pillow",
        "git+https://example.invalid/x.git#egg=x",
    )


@pytest.mark.unit
def test_reference_json(tmp_path: Path) -> None:
    files = CURRENT_FILES
    config = load_config(_write(tmp_path, CURRENT, *files))
    assert config.reference_json() == {
        "build": {
            "python_version": "3.12.4",
            "gpu": True,
            "python_requirements": "requirements.txt",
            "run": [
                {"command": "echo env is ready!"},
                {
                    "command": "pip install private-pkg",
                    "mounts": [{"type": "secret", "id": "pip", "target": "/etc/pip.conf"}],
                },
            ],
            "system_packages": ["libgl1", "libglib2.0-0"],
            "cuda": "12.4",
            "base_image": "my-registry.example:5000/python:3.12",
        },
        "image": "my-registry.example:5000/me/model",
        "predict": "run.py:Runner",
        "train": "train.py:train",
        "concurrency": {"max": 4},
        "environment": ["HF_HOME=/src/hf", "EMPTY=", "WITH_EQUALS=a=b"],
        "weights": [
            {"source": "weights/model.safetensors"},
            {"source": "weights/extra", "target": "/src/extra"},
        ],
    }
