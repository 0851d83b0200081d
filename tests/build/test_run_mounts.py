"""BuildKit --mount= prefixes on build.run commands, parsed as the reference's Docker would."""

from __future__ import annotations

import pytest

from cog.errors import BuildError
from cog.rules.run_mounts import Mounts, parse_command
from cog.rules.sandbox import RunStep

pytestmark = pytest.mark.unit


def test_a_command_without_prefixes_is_unchanged() -> None:
    assert parse_command("pip install x --mount=no") == Mounts("pip install x --mount=no")


def test_cache_secret_and_tmpfs_prefixes_are_split_off() -> None:
    parsed = parse_command(
        "--mount=type=cache,target=/root/.cache/pip,sharing=locked "
        "--mount=type=secret,id=hf,dst=/run/secrets/hf --mount=type=tmpfs,target=/scratch "
        "pip install -r requirements.txt"
    )
    assert parsed == Mounts(
        "pip install -r requirements.txt",
        secrets=(("hf", "/run/secrets/hf"),),
        caches=(("/root/.cache/pip", "/root/.cache/pip"),),
        tmpfs=("/scratch",),
    )


def test_a_secret_without_target_is_under_run_secrets_and_cache_ids_are_kept() -> None:
    parsed = parse_command("--mount=type=secret,id=token --mount=type=cache,id=pip,target=/c ls")
    assert parsed.secrets == (("token", "/run/secrets/token"),)
    assert parsed.caches == (("pip", "/c"),)


def test_cog_yaml_mounts_and_prefixes_are_one_list() -> None:
    step = RunStep("--mount=type=secret,id=a,target=/a cat /a /b", (("b", "/b"),))
    assert step.parsed().secrets == (("b", "/b"), ("a", "/a"))
    assert step.parsed().command == "cat /a /b"
    assert sorted(step.mount_targets()) == ["a", "b"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("--mount=type=bind,source=.,target=/src ls", "type 'bind' is not supported"),
        ("--mount=type=ssh ls", "type 'ssh' is not supported"),
        ("--mount=target=/x ls", "type 'bind' is not supported"),  # BuildKit's default
        ("--mount=type=cache,target=/c,colour=red ls", "unknown --mount option 'colour'"),
        ("--mount=type=cache,target=relative ls", "needs an absolute target"),
        ("--mount=type=cache,target=/c", "has only --mount options"),
    ],
)
def test_bad_mounts_are_clear_errors(command: str, expected: str) -> None:
    with pytest.raises(BuildError, match=expected) as info:
        parse_command(command)
    assert command in info.value.message
    assert info.value.hint
