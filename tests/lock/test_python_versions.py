"""Which interpreter each python_version gets, the pinned pbs table, and the errors."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

import cog.rules.pylock.runtime_wheels as runtime_module
import cog.rules.python_standalone as pbs
from cog.config import load_config
from cog.errors import ConfigError, LockError
from cog.rules.debian.targets import debian_data
from cog.rules.lockfile import Interpreter, Lock, Target
from cog.rules.lockfile_text import dumps, loads
from cog.rules.pylock.runtime_wheels import runtime_data
from cog.rules.sbom import sbom_from_lock
from cog.third_party import data_file

pytestmark = pytest.mark.unit

SUITES = debian_data().python_suites
TABLE = pbs.standalone_table()


def _choose(version: str, arch: str = "amd64") -> pbs.Choice:
    return pbs.choose(version, arch, SUITES, TABLE)


@pytest.mark.parametrize(
    ("version", "suite"),
    [("3.9", "bullseye"), ("3.11", "bookworm"), ("3.13", "trixie"), ("3.14", "forky")],
)
def test_a_minor_that_a_debian_suite_carries_gets_debians_interpreter(
    version: str, suite: str
) -> None:
    choice = _choose(version)
    assert (choice.suite, choice.build, choice.patch) == (suite, None, None)


@pytest.mark.parametrize(
    ("version", "newest"), [("3.8", "3.8.20"), ("3.10", "3.10.22"), ("3.12", "3.12.16")]
)
def test_other_minors_get_the_newest_pinned_pbs_build_on_bookworm(
    version: str, newest: str
) -> None:
    choice = _choose(version)
    assert choice.build is not None
    assert (choice.suite, choice.build.version) == ("bookworm", newest)
    assert choice.build.file.endswith("-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz")


def test_python_38_locks_with_the_runtimes_38_releases() -> None:
    # The runtime's requirements name quart/quart-trio releases that still run on 3.8.
    data = runtime_data()
    assert data.requires_python == (3, 8)
    assert "quart>=0.19.9,<0.20; python_version < '3.9'" in data.requirements
    assert _choose("3.8.20").build is not None


@pytest.mark.parametrize("version", ["3.8", "3.8.20"])
def test_a_python_older_than_the_runtime_supports_is_refused_naming_why(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A pbs build exists, but the image's runtime would not run on it.
    older = dataclasses.replace(
        runtime_data(), requires_python=(3, 9), requires_python_reason="X has no 3.8 release"
    )
    monkeypatch.setattr(runtime_module, "runtime_data", lambda: older)
    with pytest.raises(LockError) as raised:
        _choose(version)
    assert f"python_version {version!r} cannot run cog's runtime" in raised.value.message
    assert "X has no 3.8 release" in raised.value.message
    assert raised.value.hint is not None
    assert '"3.9"' in raised.value.hint


def test_a_patch_pin_is_honoured_exactly() -> None:
    choice = _choose("3.12.4")
    assert choice.build is not None
    assert choice.build.version == "3.12.4"
    arm = _choose("3.12.4", "arm64")
    assert arm.build is not None
    assert "aarch64" in arm.build.file


def test_a_patch_pin_on_a_debian_minor_keeps_the_pbs_build_as_fallback() -> None:
    # Whether bookworm ships exactly 3.11.9 is known once its index is read (cog.locking).
    choice = _choose("3.11.9")
    assert (choice.suite, choice.patch) == ("bookworm", "3.11.9")
    assert choice.fallback is not None
    assert choice.fallback.version == "3.11.9"


@pytest.mark.parametrize("version", ["2.7", "3.7", "3.15", "4.0", "3", "three", "3.12.1.1"])
def test_unsupported_versions_are_one_error_listing_what_is_supported(version: str) -> None:
    with pytest.raises(LockError) as raised:
        _choose(version)
    assert f"python_version {version!r} is not supported" in raised.value.message
    assert "3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14" in raised.value.message


def test_a_patch_version_that_does_not_exist_is_refused_never_swapped() -> None:
    with pytest.raises(LockError) as raised:
        _choose("3.12.99")
    assert "'3.12.99' is not available" in raised.value.message
    assert "3.12.0" in raised.value.message
    assert "3.12.16" in raised.value.message
    assert '"3.12"' in (raised.value.hint or "")


def test_a_missing_debian_patch_names_what_debian_ships() -> None:
    error = pbs.unavailable_patch("3.13.99", ("trixie", "3.13.5"), TABLE.for_arch("amd64", "3.13"))
    assert "Debian trixie ships 3.13.5" in error.message


def test_debian_upstream_version() -> None:
    assert pbs.debian_upstream_version("3.11.2-6+deb12u9") == "3.11.2"
    assert pbs.debian_upstream_version("3.9.2-1") == "3.9.2"
    assert pbs.debian_upstream_version("1:3.14.7-3") == "3.14.7"
    assert pbs.debian_upstream_version("3.13.5~rc1-1") == "3.13.5"


def test_the_pinned_table_is_well_formed() -> None:
    raw = tomllib.loads(data_file("python_standalone.toml").read_text())
    builds = raw["builds"]
    keys = {(b["version"], b["arch"]) for b in builds}
    assert len(keys) == len(builds)
    for b in builds:
        assert len(b["sha256"]) == 64
        assert int(b["sha256"], 16) >= 0
        assert b["file"].startswith(f"cpython-{b['version']}+{b['release']}-")
        assert "-install_only" in b["file"]
        assert b["file"].endswith(".tar.gz")
    assert {b.minor for b in TABLE.builds} == {f"3.{m}" for m in range(8, 15)}


def test_a_table_override_replaces_the_pinned_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = tmp_path / "table.toml"
    table.write_text(
        'format = 1\nbase_suite = "bookworm"\nbuilds = [\n  { version = "3.12.1", arch = "amd64",'
        f' release = "1", file = "cpython-3.12.1+1-x.tar.gz", sha256 = "{"a" * 64}" }},\n]\n'
    )
    monkeypatch.setenv(pbs.TABLE_ENV, str(table))
    assert pbs.table_bytes() == table.read_bytes()
    only = pbs.standalone_table().for_arch("amd64", "3.12")
    assert [b.version for b in only] == ["3.12.1"]


def test_archive_urls_use_the_uv_mirror(tmp_path: Path) -> None:
    build = TABLE.for_arch("amd64", "3.12")[-1]
    urls = pbs.archive_urls(build, {pbs.MIRROR_ENV: "http://127.0.0.1:1/pbs/"})
    quoted = build.file.replace("+", "%2B")
    assert urls == [f"http://127.0.0.1:1/pbs/{build.release}/{quoted}"]
    (tmp_path / "uv.toml").write_text('python-install-mirror = "file:///srv/pbs"\n')
    from_toml = pbs.archive_urls(build, {"UV_NO_CONFIG": ""}, project_dir=tmp_path)
    assert from_toml == [f"file:///srv/pbs/{build.release}/{quoted}"]


def test_without_a_mirror_the_release_location_comes_from_uv() -> None:
    build = TABLE.for_arch("amd64", "3.10")[-1]
    (url,) = pbs.archive_urls(build, {})
    assert url.endswith(f"/{build.release}/{build.file.replace('+', '%2B')}")
    assert url.startswith("https://")


def _lock(interpreter: Interpreter) -> Lock:
    target = Target(python_version="3.12", debian_suite="bookworm")
    return Lock(inputs_sha256="b" * 64, target=target, interpreter=interpreter)


def test_the_lock_pins_the_build_by_release_file_and_sha256_never_a_host() -> None:
    build = TABLE.for_arch("amd64", "3.12")[-1]
    pinned = Interpreter(
        source="python-build-standalone",
        version=build.version,
        release=build.release,
        filename=build.file,
        sha256=build.sha256,
    )
    text = dumps(_lock(pinned))
    assert "[interpreter]" in text
    assert "://" not in text
    assert loads(text, "cog.lock").interpreter == pinned
    with pytest.raises(LockError, match=r"interpreter\.sha256"):
        loads(text.replace(build.sha256, "XYZ"), "cog.lock")


def test_the_sbom_lists_a_pbs_interpreter_with_a_purl() -> None:
    build = TABLE.for_arch("amd64", "3.12")[-1]
    pinned = Interpreter(
        source="python-build-standalone",
        version=build.version,
        release=build.release,
        filename=build.file,
        sha256=build.sha256,
    )
    doc = sbom_from_lock(_lock(pinned), image_name="x", manifest_digest=None, env={})
    (python,) = [p for p in doc["packages"] if p["name"] == "python"]
    refs = {r["referenceType"]: r["referenceLocator"] for r in python["externalRefs"]}
    assert refs["purl"] == f"pkg:generic/python@{build.version}?checksum=sha256:{build.sha256}"
    assert refs["cpe23Type"].startswith(f"cpe:2.3:a:python:python:{build.version}:")


def test_cog_yaml_refuses_an_unsupported_minor_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "predict.py").write_text("")
    (tmp_path / "cog.yaml").write_text(
        'build:\n  gpu: false\n  python_version: "3.7"\npredict: "predict.py:Predictor"\n'
    )
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path / "cog.yaml")
    assert ":3:" in str(raised.value)
    assert "3.8, 3.9, 3.10, 3.11, 3.12, 3.13, 3.14" in str(raised.value)
