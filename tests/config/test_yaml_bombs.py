"""Hostile cog.yaml files: alias bombs, self-referencing aliases and deep nesting are refused
at once with a ConfigError that names the file, never by running out of time or memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cog.config import load_config
from cog.errors import ConfigError

pytestmark = pytest.mark.unit

HEAD = 'build:\n  python_version: "3.11"\nrun: "run.py:Runner"\n'


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cog.yaml"
    path.write_text(text)
    return path


def _refusal(path: Path) -> str:
    """What load_config says about ``path``, after the ``PATH:LINE: `` it starts with."""
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = caught.value.message
    assert message.startswith(f"{path}:"), message
    return message[len(f"{path}:") :].split(" ", 1)[1]


def _laughs(levels: int, width: int) -> str:
    """Each level holds ``width`` aliases of the one below: width**levels leaves."""
    lines = ['l0: &l0 "ha"']
    for level in range(1, levels + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + _laughs(levels=9, width=9))
    assert "YAML aliases" in _refusal(path)


def test_few_aliases_that_expand_to_a_huge_tree_are_refused(tmp_path: Path) -> None:
    # 60 aliases (under the alias budget), a million values once expanded.
    path = _write(tmp_path, HEAD + _laughs(levels=6, width=10))
    assert "expand to more than" in _refusal(path)


def test_more_aliases_than_the_budget_are_refused(tmp_path: Path) -> None:
    aliases = ", ".join(["*pkg"] * 150)
    text = HEAD.replace("build:\n", f"build:\n  system_packages: [&pkg libgl1, {aliases}]\n")
    path = _write(tmp_path, text)
    assert _refusal(path).startswith("more than 100 YAML aliases")
    with pytest.raises(ConfigError, match=r"cog\.yaml:2: "):
        load_config(path)


@pytest.mark.parametrize(
    "bomb",
    ["loop: &a [*a]\n", "loop: &a {key: *a}\n", "loop: &a {key: [1, {deeper: *a}]}\n"],
    ids=["sequence", "mapping", "nested"],
)
def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path, bomb: str) -> None:
    assert "an alias that contains itself" in _refusal(_write(tmp_path, HEAD + bomb))


@pytest.mark.parametrize("depth", [150, 5000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    text = HEAD + "deep: " + "[" * depth + "]" * depth + "\n"
    assert "YAML nested more than 100 levels deep" in _refusal(_write(tmp_path, text))


def test_a_few_anchors_and_aliases_still_work(tmp_path: Path) -> None:
    text = (
        'build:\n  python_version: "3.11"\n'
        "  system_packages: &pkgs [libgl1, ffmpeg]\n"
        "  run: [&cmd 'echo hi', *cmd]\n"
        'run: "run.py:Runner"\n'
        "concurrency:\n  <<: &defaults {max: 2}\n"
        "environment: [&e A=1]\n"
    )
    (tmp_path / "run.py").write_text("class Runner: ...\n")
    config = load_config(_write(tmp_path, text))
    assert list(config.build.system_packages) == ["libgl1", "ffmpeg"]
    assert [step.command for step in config.build.run] == ["echo hi", "echo hi"]
    assert config.concurrency_max == 2


@pytest.mark.integration
@pytest.mark.parametrize(
    "command",
    [
        ["-c", "import sys; from cog.cli import main; sys.exit(main())", "schema"],
        ["-m", "cog.runtime", "--host", "127.0.0.1"],
    ],
    ids=["cog schema", "python -m cog.runtime"],
)
@pytest.mark.parametrize("bomb", ["laughs", "deep"])
def test_commands_refuse_a_hostile_cog_yaml_at_once(
    tmp_path: Path, command: list[str], bomb: str
) -> None:
    body = _laughs(levels=9, width=9) if bomb == "laughs" else "x: " + "[" * 5000 + "]" * 5000
    _write(tmp_path, HEAD + body + "\n")
    (tmp_path / "run.py").write_text("from cog import BaseRunner\nclass Runner(BaseRunner): ...\n")
    result = subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        env=dict(os.environ, PORT="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "cog.yaml:" in result.stderr
    assert "Traceback" not in result.stderr
