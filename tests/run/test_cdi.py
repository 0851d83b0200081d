"""`--gpus` under runc applies the CDI spec the machine has, seen from inside a container.

The spec is a stand-in (cdi_standin.py) written by the test, in JSON and in YAML; the
image is examples/hello, locked and built with the `cog` command, and every run is the
`cog` command in a subprocess, as a user runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.run.cdi_standin import LIBRARY, PROBE, StandIn, write_standin

pytestmark = [pytest.mark.integration, pytest.mark.network]

ROOT = Path(__file__).resolve().parents[2]
COG = str(Path(sys.executable).parent / "cog")


@dataclass(frozen=True)
class Project:
    path: Path
    cache: Path

    def cog(self, *args: str, spec_dir: Path) -> subprocess.CompletedProcess[str]:
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = os.environ | {
            "COG_CACHE_DIR": str(self.cache),
            "NO_COLOR": "1",
            "PATH": path,
            "CDI_SPEC_DIRS": str(spec_dir),
        }
        return subprocess.run(
            [COG, *args],
            cwd=self.path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def probe(self, gpus: str, standin: StandIn) -> dict[str, Any]:
        done = self.cog("exec", "--gpus", gpus, "python3", "probe.py", spec_dir=standin.spec_dir)
        assert done.returncode == 0, f"cog exec failed:\n{done.stdout}{done.stderr}"
        seen: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return seen


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Project:
    if shutil.which("runc") is None:
        pytest.fail("runc is not installed (Debian package runc)")
    work = tmp_path_factory.mktemp("cdi")
    project = Project(work / "hello", work / "cache")
    ignore = shutil.ignore_patterns(".cog", "cog.lock", "__pycache__")
    shutil.copytree(ROOT / "examples" / "hello", project.path, ignore=ignore)
    (project.path / "probe.py").write_text(PROBE)
    subprocess.run([sys.executable, "make_weights.py"], cwd=project.path, check=True)
    for step in (("lock",), ("build", "-t", "hello")):
        done = project.cog(*step, spec_dir=work / "none")
        assert done.returncode == 0, f"cog {step[0]} failed:\n{done.stdout}{done.stderr}"
    return project


def _null_and_zero() -> tuple[list[int], list[int]]:
    null, zero = os.stat("/dev/null").st_rdev, os.stat("/dev/zero").st_rdev
    return [os.major(null), os.minor(null)], [os.major(zero), os.minor(zero)]


def test_gpus_all_gets_every_device_the_library_env_and_the_hook_of_a_json_spec(
    hello: Project, tmp_path: Path
) -> None:
    standin = write_standin(tmp_path, "json")
    seen = hello.probe("all", standin)

    null, zero = _null_and_zero()
    # nvidia0 reads as /dev/null (nothing), nvidia1 as /dev/zero (a zero byte).
    assert seen["devices"] == {
        "nvidia0": [*null, ""],
        "nvidia1": [*zero, "00"],
        "nvidiactl": [*null, ""],
    }
    assert seen["env"] == {
        "COG_STANDIN_GPU": "all",
        "COG_STANDIN_SPEC": "yes",
        "NVIDIA_VISIBLE_DEVICES": "void",
    }
    assert seen["library"] == "stand-in libcuda\n", LIBRARY
    assert seen["driver_dir"] == ["libnvidia-ml.so.1"]
    assert seen["hook"] == "update-ldcache --folder /usr/lib/cog-standin-driver"
    assert len(standin.hook_runs()) == 1


def test_gpus_device_1_gets_only_that_device_from_a_yaml_spec(
    hello: Project, tmp_path: Path
) -> None:
    standin = write_standin(tmp_path, "yaml")
    seen = hello.probe('"device=1"', standin)

    null, zero = _null_and_zero()
    assert seen["devices"] == {"nvidia1": [*zero, "00"], "nvidiactl": [*null, ""]}
    assert seen["env"]["COG_STANDIN_GPU"] == "1"
    assert seen["library"] == "stand-in libcuda\n"
    assert seen["hook"] == "update-ldcache --folder /usr/lib/cog-standin-driver"


def test_gpus_2_counts_devices_by_index(hello: Project, tmp_path: Path) -> None:
    standin = write_standin(tmp_path, "yaml")
    seen = hello.probe("2", standin)
    assert sorted(seen["devices"]) == ["nvidia0", "nvidia1", "nvidiactl"]
    assert seen["env"]["COG_STANDIN_GPU"] == "1"  # device 1's edits come after device 0's


def test_a_prediction_is_served_with_gpus(hello: Project, tmp_path: Path) -> None:
    standin = write_standin(tmp_path, "json")
    done = hello.cog("run", "--gpus", "device=0", "-i", "name=gpu", spec_dir=standin.spec_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello, gpu!\n"
    assert len(standin.hook_runs()) == 1


def test_without_a_spec_the_error_names_the_kind_the_directories_and_the_fix(
    hello: Project, tmp_path: Path
) -> None:
    empty = tmp_path / "no-specs"
    empty.mkdir()
    done = hello.cog("exec", "--gpus", "all", "true", spec_dir=empty)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "no CDI spec describes devices of kind nvidia.com/gpu" in done.stderr
    assert f"looked in {empty}" in done.stderr
    assert "nvidia-container-toolkit" in done.stderr
    assert "nvidia-ctk cdi generate --output=/etc/cdi/nvidia.yaml" in done.stderr


def test_a_device_the_spec_lacks_is_named_with_those_it_has(hello: Project, tmp_path: Path) -> None:
    standin = write_standin(tmp_path, "yaml")
    done = hello.cog("exec", "--gpus", "device=7", "true", spec_dir=standin.spec_dir)
    assert done.returncode == 1
    assert "nvidia.com/gpu has no device 7 (it has 0, 1, all in" in done.stderr
    assert standin.hook_runs() == []
