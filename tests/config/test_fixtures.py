"""The cog.yaml files of the reference's documentation load as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog.config import BuildConfig, RunCommand, SecretMount, load_config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "config"


@pytest.mark.unit
def test_current_readme() -> None:
    config = load_config(FIXTURES / "current-readme" / "cog.yaml")
    assert config.build == BuildConfig(
        gpu=True,
        system_packages=("libgl1", "libglib2.0-0"),
        python_version="3.13",
        python_requirements="requirements.txt",
    )
    assert config.predict == "run.py:Runner"
    assert config.requirements() == ("torch==2.6.0",)


@pytest.mark.unit
def test_legacy_reference() -> None:
    config = load_config(FIXTURES / "legacy-reference" / "cog.yaml")
    assert config.build == BuildConfig(
        python_version="3.11",
        python_packages=("pytorch==2.0.1",),
        system_packages=("ffmpeg", "git"),
    )
    assert config.predict == "predict.py:Predictor"
    assert config.requirements() == ("pytorch==2.0.1",)


@pytest.mark.unit
def test_private_registry_secret_mount() -> None:
    config = load_config(FIXTURES / "private-registry" / "cog.yaml")
    assert config.build.run == (
        RunCommand(command="pip install", mounts=(SecretMount(id="pip", target="/etc/pip.conf"),)),
    )
    assert config.predict is None


@pytest.mark.unit
def test_training() -> None:
    config = load_config(FIXTURES / "training" / "cog.yaml")
    assert (config.train, config.predict, config.concurrency_max) == ("train.py:train", None, 4)
