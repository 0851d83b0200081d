"""Fixtures for lock tests: a cache shared by the session (the Debian index is ~9 MB per
suite, downloaded once) and small projects written into tmp folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

PREDICT = """\
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str) -> str:
        return text
"""


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cog-cache")


@pytest.fixture
def cog_cache(session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COG_CACHE_DIR", str(session_cache))
    return session_cache


MakeProject = Callable[[str], Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    def make(cog_yaml: str) -> Path:
        project = tmp_path / "project"
        project.mkdir(exist_ok=True)
        (project / "cog.yaml").write_text(cog_yaml)
        (project / "predict.py").write_text(PREDICT)
        return project

    return make
