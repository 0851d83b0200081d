"""The scratch path podman names a loaded image after is always a valid image name."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from cog._container.engines import _reference_safe, _reference_safe_directory


@pytest.mark.parametrize(
    ("path", "valid"),
    [
        ("/tmp/cog-load-0a1b2c3d/image", True),
        ("/tmp/pytest-of-root/pytest-3/e2e0", True),
        ("/tmp/cog-load-pt8d_py_/image", False),  # tempfile's name that failed in CI
        ("/tmp/cog-load-a__b_/image", False),
        ("/tmp/Upper/image", False),
    ],
)
def test_reference_grammar_of_a_path(path: str, valid: bool) -> None:
    assert _reference_safe(Path(path)) is valid


def test_scratch_directory_is_valid_private_and_removed(tmp_path: Path) -> None:
    made = []
    for _ in range(200):  # about one tempfile name in twenty was invalid
        with _reference_safe_directory() as scratch:
            assert _reference_safe(scratch / "image")
            assert scratch.stat().st_mode & 0o777 == 0o700
            made.append(scratch)
    assert not any(path.exists() for path in made)


def test_an_invalid_temporary_root_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "Not_Valid_"
    bad.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(bad))
    with _reference_safe_directory() as scratch:
        assert _reference_safe(scratch)
        assert not scratch.is_relative_to(bad)
