"""Wheel choice, uv's failures explained, CPU builds found, preferences handed to uv."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from cog.errors import LockError
from cog.rules.lockfile import Wheel
from cog.rules.pylock.cpu import cpu_versions
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.resolve import Target, pick_wheel, run_uv_compile, uv_platform
from cog.rules.pylock.tags import wheel_rank
from cog.rules.pylock.uv_errors import explain_uv_failure

TARGET = Target("3.11", "x86_64-manylinux_2_36")


def _entry(filename: str, size: int | None = 10) -> dict[str, Any]:
    return {
        "url": f"https://files.invalid/{filename}",
        "size": size,
        "hashes": {"sha256": "a" * 64},
    }


@pytest.mark.unit
def test_best_wheel_prefers_exact_interpreter_then_newest_manylinux() -> None:
    names = [
        "x-1-py3-none-any.whl",
        "x-1-cp37-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "x-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "x-1-cp311-cp311-manylinux_2_28_x86_64.whl",
    ]
    assert max(names, key=lambda n: wheel_rank(n, "3.11")) == names[3]
    assert max(names[:2], key=lambda n: wheel_rank(n, "3.11")) == names[1]
    package = {"name": "X", "version": "1", "wheels": [_entry(n) for n in names]}
    wheel, url = pick_wheel(package, TARGET)
    assert (wheel.name, wheel.filename, url) == ("x", names[3], f"https://files.invalid/{names[3]}")


@pytest.mark.unit
def test_sdist_only_package_is_an_error_naming_package_and_platform() -> None:
    with pytest.raises(
        LockError, match=r"antlr4 4.9.3 has no wheel for Python 3.11 on x86"
    ) as info:
        pick_wheel({"name": "antlr4", "version": "4.9.3", "sdist": {}}, TARGET)
    assert info.value.hint is not None
    assert "build.run" in info.value.hint


@pytest.mark.unit
def test_uv_failures_are_explained() -> None:
    index = IndexConfig(
        extra_index_urls=("https://idx.invalid/simple",),
        origins=(("https://idx.invalid/simple", "extra-index-url in /etc/pip.conf"),),
    )
    fetch = (
        "error: Request failed after 1 retry\n"
        "  cause: Failed to fetch: `https://idx.invalid/simple/six/`\n"
        "  cause: Connection refused (os error 111)"
    )
    error = explain_uv_failure(fetch, "Python 3.11", index)
    assert "https://idx.invalid/simple (extra-index-url in /etc/pip.conf)" in error.message
    unknown = "  cause: Because zzq was not found in the package registry and you require zzq"
    error = explain_uv_failure(unknown, "Python 3.11", index)
    assert error.message == "unknown Python package 'zzq': no configured index has it"
    assert error.hint is not None
    assert "uv's default index" in error.hint
    no_wheel = "  cause: Because torch==2.5.0 has no wheels with a matching platform tag (e.g. x)"
    assert (
        "torch has no wheel for Python 3.11"
        in explain_uv_failure(no_wheel, "Python 3.11", index).message
    )


@pytest.mark.unit
def test_cpu_versions_from_find_links_and_an_index(tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    for name in (
        "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.9.1+cpu-cp311-cp311-manylinux_2_28_x86_64.whl",
        "torch-2.14.0+cpu-cp312-cp312-manylinux_2_28_x86_64.whl",  # other Python
        "torch-2.14.0+cpu-cp311-cp311-manylinux_2_28_aarch64.whl",  # other arch
        "torch-2.15.0-cp311-cp311-manylinux_2_28_x86_64.whl",  # not a CPU build
    ):
        (links / name).write_bytes(b"")
    page = tmp_path / "simple" / "torch"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        '<a href="/f/torch-2.10.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl">x</a>'
    )
    index = IndexConfig(
        extra_index_urls=((tmp_path / "simple").as_uri(),), find_links=(str(links),)
    )
    assert cpu_versions("torch", index, "3.11", "x86_64") == [
        "2.13.0+cpu",
        "2.10.0+cpu",
        "2.9.1+cpu",
    ]


@pytest.mark.unit
def test_preferences_and_upgrade_flags_reach_uv(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        cwd = Path(kwargs["cwd"])
        seen["argv"] = argv
        seen["preferences"] = (cwd / "pylock.toml").read_text()
        seen["env"] = kwargs["env"]
        (cwd / "pylock.toml").write_text('lock-version = "1.0"\n')
        return subprocess.CompletedProcess(argv, 0, "", "")

    monkeypatch.setattr("cog.rules.pylock.resolve.subprocess.run", fake_run)
    monkeypatch.setenv("UV_INDEX_URL", "https://ignored.invalid/simple")
    previous = [Wheel(name="idna", version="3.7", filename="i.whl", sha256="b" * 64, size=1)]
    index = IndexConfig(find_links=("/wheels",), index_strategy="unsafe-best-match")
    assert run_uv_compile(["six"], TARGET, index, preferences=previous, upgrade=["six"]) == []
    assert 'name = "idna"\nversion = "3.7"' in seen["preferences"]
    argv = seen["argv"]
    assert argv[argv.index("--upgrade-package") + 1] == "six"
    assert argv[argv.index("--find-links") + 1] == "/wheels"
    assert argv[argv.index("--index-strategy") + 1] == "unsafe-best-match"
    assert argv[argv.index("--python-platform") + 1] == "x86_64-manylinux_2_36"
    assert "--no-config" in argv
    assert "UV_INDEX_URL" not in seen["env"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("machine", "glibc", "expected"),
    [
        ("x86_64", "2.36", "x86_64-manylinux_2_36"),  # bookworm
        ("x86_64", "2.41", "x86_64-manylinux_2_40"),  # trixie: past what uv names
        ("aarch64", "2.43", "aarch64-manylinux_2_40"),  # forky
    ],
)
def test_uv_platform_is_capped_at_the_newest_tag_uv_accepts(
    machine: str, glibc: str, expected: str
) -> None:
    assert uv_platform(machine, glibc) == expected
