"""cog doctor names each problem and its fix; --fix repairs what is safe to repair."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cog._diagnosis.diagnose import diagnose
from cog.cli.main import cli
from cog.errors import BuildError, CogError
from cog.rules.host_tools import require

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
    assert lock.warning  # the reference has no lock: its absence is not a failure
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


def test_doctor_works_without_a_lock_and_writes_to_stderr(project: Path) -> None:
    result = CliRunner().invoke(cli, ["doctor"], env={"COG_SKIP_DOCKER_CHECK": "1"})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "WARN   cog.lock:" in result.stderr
    assert "       Run `cog lock`" in result.stderr


def test_doctor_command_exits_non_zero_and_prints_each_hint(project: Path) -> None:
    (project / "cog.lock").write_text("not a lock\n")
    result = CliRunner().invoke(cli, ["doctor"], env={"COG_SKIP_DOCKER_CHECK": "1"})
    assert result.exit_code == 1
    assert "FAILED cog.lock:" in result.stderr
    assert "error: cog doctor found 1 problem" in result.stderr


def _fake_tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\n" + body)
    tool.chmod(0o755)
    return tool


def test_doctor_reports_each_host_tool_with_its_path_and_version(project: Path) -> None:
    found = {f.check: f for f in diagnose(Path("cog.yaml"), env={})}
    for name in ("uv", "runc", "bwrap", "gpgv", "zstd"):
        assert found[name].ok, found[name]
    assert found["uv"].message.startswith("uv 0.13.")
    assert "(installed with cog)" in found["uv"].message
    assert found["bwrap"].message.startswith("bubblewrap ")
    assert " at /" in found["gpgv"].message


def test_doctor_names_the_uv_that_cog_uv_selects(project: Path) -> None:
    uv = _fake_tool(project / "bin", "uv", 'echo "uv 9.9.9 (custom)"\n')
    (finding,) = [f for f in diagnose(Path("cog.yaml"), env={"COG_UV": str(uv)}) if f.check == "uv"]
    assert finding.ok
    assert finding.message == f"uv 9.9.9 (custom) at {uv} (COG_UV)"


def test_a_missing_tool_names_its_debian_package_and_fix_installs_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = project / "bin"
    log = project / "apt.log"
    _fake_tool(bin_dir, "apt-get", f'echo "$@" >> {log}\n')
    monkeypatch.setenv("PATH", str(bin_dir))  # no bwrap, gpgv, zstd or runc here
    found = {f.check: f for f in diagnose(Path("cog.yaml"), env={"COG_SKIP_DOCKER_CHECK": "1"})}
    bwrap = found["bwrap"]
    assert not bwrap.ok
    assert bwrap.message == "bwrap is not installed: build.run steps (the build sandbox) needs it"
    assert bwrap.hint == "Install it: apt-get install bubblewrap"
    assert bwrap.fix is not None
    assert bwrap.fix() == "installed bubblewrap with apt-get"
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends bubblewrap",
    ]
    # The next missing tool of the same run installs without a second update.
    zstd = found["zstd"]
    assert zstd.fix is not None
    assert zstd.fix() == "installed zstd with apt-get"
    assert log.read_text().splitlines()[2:] == ["install -y -qq --no-install-recommends zstd"]
    # podman and docker are needed only when asked for: absent is not a problem.
    assert found["podman"].ok
    assert found["podman"].message == "not installed (only --runtime podman needs it)"


def test_a_failing_apt_get_is_reported(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = project / "bin"
    _fake_tool(bin_dir, "apt-get", 'echo "E: Unable to locate package" >&2; exit 100\n')
    monkeypatch.setenv("PATH", str(bin_dir))
    (zstd,) = [f for f in diagnose(Path("cog.yaml"), env={}) if f.check == "zstd"]
    assert zstd.fix is not None
    with pytest.raises(CogError, match="`apt-get update -qq` failed:\nE: Unable to locate"):
        zstd.fix()


def test_a_missing_tool_at_the_moment_of_use_is_one_clear_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(project))
    with pytest.raises(BuildError) as info:
        require("bwrap", BuildError)
    assert str(info.value) == (
        "bwrap is not installed: build.run steps (the build sandbox) needs it\n"
        "Install it: apt-get install bubblewrap (or run `cog doctor --fix` as root)."
    )


def test_a_local_python_other_than_cog_yaml_s_is_a_warning(project: Path) -> None:
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    other = "3.12" if here != "3.12" else "3.11"
    config = 'build:\n  python_version: "{}"\nrun: "run.py:Runner"\n'
    (project / "cog.yaml").write_text(config.format(other))
    result = CliRunner().invoke(cli, ["doctor"], env={"COG_SKIP_DOCKER_CHECK": "1"})
    assert f"WARN   env-python-version: local Python is {here} but cog.yaml specifies {other}" in (
        result.stderr
    )
    assert result.exit_code == 0, result.stderr
    (project / "cog.yaml").write_text(config.format(here))
    same = CliRunner().invoke(cli, ["doctor"], env={"COG_SKIP_DOCKER_CHECK": "1"})
    assert "env-python-version" not in same.stderr
