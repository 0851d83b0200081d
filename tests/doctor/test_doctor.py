"""cog doctor names each problem and its fix; --fix repairs what is safe to repair."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cog.cli.main import cli
from cog.doctor import diagnose

pytestmark = pytest.mark.unit

RUNNER = """from cog import BaseRunner


class Runner(BaseRunner):
    def run(self) -> str:
        return "x"
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "cog.yaml").write_text('build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n')
    (tmp_path / "run.py").write_text(RUNNER)
    monkeypatch.setenv("COG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _by_check(project: Path, env: dict[str, str]) -> dict[str, list[tuple[bool, str]]]:
    found: dict[str, list[tuple[bool, str]]] = {}
    for finding in diagnose(Path("cog.yaml"), env=env):
        found.setdefault(finding.check, []).append((finding.ok, finding.message))
    return found


def test_missing_lock_is_reported_with_its_fix(project: Path) -> None:
    findings = {f.check: f for f in diagnose(Path("cog.yaml"), env={})}
    assert findings["cog.yaml"].ok
    lock = findings["cog.lock"]
    assert not lock.ok
    assert lock.hint is not None
    assert "cog lock" in lock.hint
    assert lock.fix is not None


def test_broken_cog_yaml_is_reported_and_stops_the_checks_that_need_it(project: Path) -> None:
    (project / "cog.yaml").write_text("build:\n  gpu: maybe\n")
    found = _by_check(project, {})
    assert found["cog.yaml"] == [
        (False, "cog.yaml:2: build.gpu must be true or false, got the string 'maybe'")
    ]
    assert "cog.lock" not in found


def test_missing_runc_names_the_package(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(project))  # a PATH without runc
    findings = [f for f in diagnose(Path("cog.yaml"), env={}) if f.check == "runc"]
    assert len(findings) == 1
    assert not findings[0].ok
    assert findings[0].hint == "Install it: apt-get install runc"


def test_skip_docker_check_skips_the_runtime(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(project))
    assert "runc" not in _by_check(project, {"COG_SKIP_DOCKER_CHECK": "1"})


def test_unwritable_cache_is_reported(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = project / "file"
    blocker.write_text("")
    monkeypatch.setenv("COG_CACHE_DIR", str(blocker / "cache"))
    ((ok, message),) = _by_check(project, {})["cache"]
    assert not ok
    assert "is not writable" in message


def test_image_without_registry_host_is_reported(project: Path) -> None:
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\nimage: "me/model"\n'
    )
    ((ok, _),) = _by_check(project, {})["registry"]
    assert not ok


def test_doctor_command_exits_non_zero_and_prints_each_hint(project: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor"], env={"COG_SKIP_DOCKER_CHECK": "1"})
    assert result.exit_code == 1
    assert "FAILED cog.lock:" in result.stdout
    assert "       Run `cog lock`" in result.stdout
    assert "error: cog doctor found 1 problem" in result.stderr
