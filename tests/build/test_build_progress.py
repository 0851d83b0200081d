"""A cold `cog build` without a terminal: a few plain lines per phase, one summary each.

Every input of every layer is fetched in one phase before the layers are built, so the
summary says once how many files came in, however many layers they feed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.build.conftest import EXAMPLES, copy_project

pytestmark = [pytest.mark.integration, pytest.mark.network]

COG = str(Path(sys.executable).parent / "cog")


def test_a_cold_build_prints_one_fetch_summary_and_few_lines(tmp_path: Path) -> None:
    project = copy_project(EXAMPLES / "hello", tmp_path / "hello")
    subprocess.run(["sh", "prepare.sh"], cwd=project, check=True)
    env = os.environ | {"COG_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    subprocess.run([COG, "lock"], cwd=project, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [COG, "build", "--progress", "plain"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    lines = (done.stdout + done.stderr).splitlines()
    summaries = [
        line for line in lines if re.search(r"\bfetched \d+ files, [\d.]+ [kMG]B in ", line)
    ]
    assert len(summaries) == 1, lines
    # The OS packages and the runtime's wheels alone are far more than this many files.
    assert int(summaries[0].split("fetched ", 1)[1].split()[0]) > 40
    assert len(lines) < 20, lines
