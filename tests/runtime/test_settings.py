"""Settings from the environment and cog.yaml: invalid values ignored with a warning."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from cog.runtime import Settings

pytestmark = pytest.mark.unit


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env_and_args(project_dir=tmp_path, env={})
    assert settings.port == 5000
    assert settings.host == "0.0.0.0"
    assert settings.max_concurrency == 1
    assert settings.setup_timeout is None
    assert settings.throttle_interval == 0.5
    assert settings.stream_history_capacity == 1024
    assert settings.weights is None
    assert settings.predict_ref is None


def test_environment_values(tmp_path: Path) -> None:
    env = {
        "PORT": "6000",
        "COG_MAX_CONCURRENCY": "4",
        "COG_SETUP_TIMEOUT": "300",
        "COG_THROTTLE_RESPONSE_INTERVAL": "1",
        "COG_STREAM_HISTORY_CAPACITY": "0",
        "COG_WEIGHTS": "https://example.invalid/w.tar",
        "COG_USER_AGENT": "svc/1.0",
        "COG_LOG_LEVEL": "warn",
        "COG_PREDICT_TYPE_STUB": "predict.py:Predictor",
    }
    settings = Settings.from_env_and_args(project_dir=tmp_path, env=env)
    assert settings.port == 6000
    assert settings.max_concurrency == 4
    assert settings.setup_timeout == 300
    assert settings.throttle_interval == 1
    assert settings.stream_history_capacity == 0
    assert settings.weights == "https://example.invalid/w.tar"
    assert settings.user_agent == "svc/1.0"
    assert settings.log_level == "WARNING"
    assert settings.predict_ref == "predict.py:Predictor"


def test_zero_setup_timeout_means_none(tmp_path: Path) -> None:
    settings = Settings.from_env_and_args(project_dir=tmp_path, env={"COG_SETUP_TIMEOUT": "0"})
    assert settings.setup_timeout is None


@pytest.mark.parametrize(
    ("name", "value", "field", "default"),
    [
        ("COG_MAX_CONCURRENCY", "lots", "max_concurrency", 1),
        ("COG_MAX_CONCURRENCY", "0", "max_concurrency", 1),
        ("COG_SETUP_TIMEOUT", "-5", "setup_timeout", None),
        ("COG_THROTTLE_RESPONSE_INTERVAL", "fast", "throttle_interval", 0.5),
        ("COG_STREAM_HISTORY_CAPACITY", "-1", "stream_history_capacity", 1024),
        ("COG_LOG_LEVEL", "loud", "log_level", "INFO"),
    ],
)
def test_invalid_values_are_ignored_with_a_warning(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: str,
    field: str,
    default: object,
) -> None:
    with caplog.at_level(logging.WARNING, logger="cog.runtime"):
        settings = Settings.from_env_and_args(project_dir=tmp_path, env={name: value})
    assert getattr(settings, field) == default
    assert name in caplog.text


def test_cog_yaml_concurrency_and_refs(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text("class Runner: ...\n")
    (tmp_path / "train.py").write_text("def train() -> None: ...\n")
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\ntrain: "train.py:train"\n'
        "concurrency:\n  max: 3\n"
    )
    settings = Settings.from_env_and_args(project_dir=tmp_path, env={})
    assert settings.predict_ref == "run.py:Runner"
    assert settings.train_ref == "train.py:train"
    assert settings.max_concurrency == 3
    override = Settings.from_env_and_args(project_dir=tmp_path, env={"COG_MAX_CONCURRENCY": "5"})
    assert override.max_concurrency == 5
