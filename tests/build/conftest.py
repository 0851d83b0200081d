from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from cog.rules.cache import Cache

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


def build(
    project: Path,
    cache_dir: Path,
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
    )


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """examples/hello with its weights made and locked, built once into a fresh cache."""
    root = tmp_path_factory.mktemp("hello")
    project = copy_project(EXAMPLES / "hello", root / "hello")
    subprocess.run([sys.executable, "make_weights.py"], cwd=project, check=True)
    lock(project)
    return Built(project, build(project, root / "cache"))
