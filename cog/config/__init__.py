"""cog.yaml: the project's build and run configuration."""

from __future__ import annotations

from cog.config._parse import load_config
from cog.config.spec import (
    DEFAULT_PYTHON_VERSION,
    BuildConfig,
    Config,
    RunCommand,
    SecretMount,
    WeightsSource,
)

__all__ = [
    "DEFAULT_PYTHON_VERSION",
    "BuildConfig",
    "Config",
    "RunCommand",
    "SecretMount",
    "WeightsSource",
    "load_config",
]
