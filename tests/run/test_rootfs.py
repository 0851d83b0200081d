from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from cog._container.image import load_image, resolve_tag
from cog._container.rootfs import chain_id, unpacked_rootfs
from cog.errors import RunError
from tests.run.conftest import Entry, write_layout

pytestmark = pytest.mark.unit


def _unpack(tmp_path: Path, layers: list[list[Entry]]) -> Path:
    layout = tmp_path / "layout"
    digest = write_layout(layout, layers)
    return unpacked_rootfs(load_image(layout, digest), tmp_path / "cache")


def test_layers_apply_in_order(tmp_path: Path) -> None:
    root = _unpack(
        tmp_path,
        [
            [Entry("etc", None), Entry("etc/a", b"one"), Entry("etc/b", b"keep")],
            [Entry("etc/a", b"two")],
        ],
    )
    assert (root / "etc/a").read_bytes() == b"two"
    assert (root / "etc/b").read_bytes() == b"keep"


def test_whiteout_removes_lower_entry(tmp_path: Path) -> None:
    root = _unpack(
        tmp_path,
        [
            [Entry("d", None), Entry("d/gone", b"x"), Entry("d/stays", b"y")],
            [Entry("d/.wh.gone", b"")],
        ],
    )
    assert sorted(os.listdir(root / "d")) == ["stays"]


def test_opaque_directory_hides_lower_entries_but_keeps_its_own(tmp_path: Path) -> None:
    root = _unpack(
        tmp_path,
        [
            [Entry("d", None), Entry("d/old", b"x")],
            [Entry("d", None), Entry("d/new", b"y"), Entry("d/.wh..wh..opq", b"")],
        ],
    )
    assert sorted(os.listdir(root / "d")) == ["new"]


def test_file_replaces_symlink_instead_of_writing_through_it(tmp_path: Path) -> None:
    root = _unpack(
        tmp_path,
        [
            [Entry("target", b"original"), Entry("link", link="target")],
            [Entry("link", b"replaced")],
        ],
    )
    assert not (root / "link").is_symlink()
    assert (root / "link").read_bytes() == b"replaced"
    assert (root / "target").read_bytes() == b"original"


def test_entry_escaping_the_root_is_refused(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    digest = write_layout(layout, [[Entry("../escape", b"x")]])
    with pytest.raises(RunError, match="outside the image"):
        unpacked_rootfs(load_image(layout, digest), tmp_path / "cache")
    assert not (tmp_path / "escape").exists()
    assert not any(p.name.startswith(".unpack-") for p in (tmp_path / "cache/rootfs").iterdir())


def test_unpack_is_cached_by_chain_id(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    digest = write_layout(layout, [[Entry("f", b"1")]])
    image = load_image(layout, digest)
    first = unpacked_rootfs(image, tmp_path / "cache")
    (first / "marker").write_text("cached")
    second = unpacked_rootfs(image, tmp_path / "cache")
    assert second == first
    assert first.name == chain_id(image.config.diff_ids).replace(":", "-")


def test_chain_id_follows_the_oci_definition() -> None:
    a = "sha256:" + "a" * 64
    b = "sha256:" + "b" * 64

    expected = "sha256:" + hashlib.sha256(f"{a} {b}".encode()).hexdigest()
    assert chain_id((a,)) == a
    assert chain_id((a, b)) == expected


def test_resolve_tag_names_known_tags(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    digest = write_layout(layout, [[Entry("f", b"1")]], tag="v1")
    assert resolve_tag(layout, "v1") == digest
    assert resolve_tag(layout, None) == digest
    with pytest.raises(RunError, match=r"no image tagged 'v2'.*tags: v1"):
        resolve_tag(layout, "v2")
