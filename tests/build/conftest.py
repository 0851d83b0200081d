from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cog.rules.cache import Cache
from cog.rules.self_package import snapshot
from tests.support.registry import registry

__all__ = ["registry"]

from cog.building import BuildResult, build_project
from cog.locking import lock_project
from cog.progress import NullProgress

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass(frozen=True)
class Built:
    project: Path
    result: BuildResult


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".cog", "cog.lock", "__pycache__"))
    return dest


def lock(project: Path) -> None:
    lock_project(project, progress=NullProgress())


@pytest.fixture(scope="session")
def cog_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the cog package for every build in the session, so that edits to the
    working tree during a run cannot make two builds of one project differ."""
    return snapshot(tmp_path_factory.mktemp("cog-source"))


def build(
    project: Path,
    cache_dir: Path,
    cog_source: Path,
    *,
    tag: str = "hello",
    separate_weights: bool = False,
    secrets: dict[str, Path] | None = None,
) -> BuildResult:
    return build_project(
        project,
        tag=tag,
        separate_weights=separate_weights,
        no_cache=False,
        progress=NullProgress(),
        cache=Cache(cache_dir),
        secrets=secrets,
        cog_source=cog_source,
    )


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory, cog_source: Path) -> Built:
    """examples/hello with its weights made and locked, built once into a fresh cache."""
    root = tmp_path_factory.mktemp("hello")
    project = copy_project(EXAMPLES / "hello", root / "hello")
    subprocess.run([sys.executable, "make_weights.py"], cwd=project, check=True)
    lock(project)
    return Built(project, build(project, root / "cache", cog_source))
