"""The cog.lock text codec: stable bytes, small diffs, clear rejections."""

from __future__ import annotations

import difflib

import pytest

from cog.errors import LockError
from cog.rules.lockfile import DebPackage, Lock, Target, WeightsFile, Wheel
from cog.rules.lockfile_text import dumps, loads


def _sha(c: str) -> str:
    return c * 64


def _lock(requests_version: str = "2.34.2") -> Lock:
    return Lock(
        inputs_sha256=_sha("a"),
        target=Target(python_version="3.11", debian_suite="bookworm"),
        debian=(
            DebPackage(
                name="zlib1g",
                version="1:1.2.13.dfsg-1",
                architecture="amd64",
                suite="bookworm",
                filename="pool/main/z/zlib/zlib1g_1.2.13.dfsg-1_amd64.deb",
                sha256=_sha("b"),
                size=87000,
                source="zlib",
                installed_size=164,
            ),
            DebPackage(
                name="libc6",
                version="2.36-9+deb12u14",
                architecture="amd64",
                suite="bookworm-security",
                filename="pool/main/g/glibc/libc6_2.36-9+deb12u14_amd64.deb",
                sha256=_sha("c"),
                size=2_700_000,
            ),
        ),
        python=(
            Wheel(
                name="requests",
                version=requests_version,
                filename=f"requests-{requests_version}-py3-none-any.whl",
                sha256=_sha("d"),
                size=73075,
            ),
            Wheel(
                name="idna",
                version="3.20",
                filename="idna-3.20-py3-none-any.whl",
                sha256=_sha("e"),
                size=69583,
            ),
        ),
        weights=(WeightsFile(path='weights/odd "name".bin', sha256=_sha("f"), size=3),),
    )


@pytest.mark.unit
def test_round_trip_and_stable_bytes() -> None:
    text = dumps(_lock())
    again = loads(text, "cog.lock")
    assert dumps(again) == text
    assert again.python[0].name == "idna"  # sorted on write
    assert [d.name for d in again.debian] == ["libc6", "zlib1g"]
    assert again.weights[0].path == 'weights/odd "name".bin'


@pytest.mark.unit
def test_one_package_change_is_a_small_diff() -> None:
    before = dumps(_lock()).splitlines()
    after = dumps(_lock("2.35.0")).splitlines()
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert len(changed) == 4  # version and filename, old and new


@pytest.mark.unit
def test_malformed_sha256_names_the_file() -> None:
    text = dumps(_lock()).replace(_sha("d"), "D" * 64)
    with pytest.raises(LockError, match=r"project/cog\.lock.*requests.*malformed sha256"):
        loads(text, "project/cog.lock")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda t: t.replace("[target]", "[target"), "not valid cog.lock text"),
        (lambda t: t.replace('arch = "amd64"', 'arch = "sparc"'), "target.arch"),
        (lambda t: t.replace("size = 73075", 'size = "big"'), "size"),
        (lambda t: t.replace("version = 1\n", "version = 99\n", 1), "lock format 99"),
        (lambda t: t + "\nsurprise = 1\n", "not a valid cog.lock"),
    ],
)
def test_rejects_bad_input(mutate: object, match: str) -> None:
    text = mutate(dumps(_lock()))  # type: ignore[operator]
    with pytest.raises(LockError, match=match) as info:
        loads(text, "/p/cog.lock")
    assert "/p/cog.lock" in info.value.message
