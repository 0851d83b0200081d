from __future__ import annotations

from pathlib import Path

import pytest

from cog.errors import BuildError
from cog.rules.deb import DebFile, ar_members
from cog.rules.rootfs_fixups import apply_fixups, dpkg_status
from cog.rules.tree import Tree

from ._archives import Member, make_deb

_LIBC: list[Member] = [
    ("./", "dir", 0o755, 0, 0, b""),
    ("./lib", "dir", 0o755, 0, 0, b""),
    ("./lib/x86_64-linux-gnu", "dir", 0o755, 0, 0, b""),
    ("./lib/x86_64-linux-gnu/libc.so.6", "file", 0o755, 0, 0, b"\x7fELF libc"),
    ("./lib64", "dir", 0o755, 0, 0, b""),
    (
        "./lib64/ld-linux-x86-64.so.2",
        "symlink",
        0o777,
        0,
        0,
        "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    ),
    ("./var", "dir", 0o755, 0, 0, b""),
    ("./var/local", "dir", 0o2775, 0, 50, b""),
    (
        "./usr/share/base-passwd/passwd.master",
        "file",
        0o644,
        0,
        0,
        b"root:*:0:0:root:/root:/bin/sh\n",
    ),
]
_CERTS: list[Member] = [
    ("./usr/share/ca-certificates/mozilla/B.crt", "file", 0o644, 0, 0, b"B-cert"),
    ("./usr/share/ca-certificates/mozilla/a.crt", "file", 0o644, 0, 0, b"a-cert\n"),
    ("./usr/bin/python3.11", "file", 0o755, 0, 0, b"\x7fELF python"),
    # Debian's python3.11: its standard library, and PEP 668's marker that pip would obey.
    ("./usr/lib/python3.11/os.py", "file", 0o644, 0, 0, b"# os\n"),
    ("./usr/lib/python3.11/EXTERNALLY-MANAGED", "file", 0o644, 0, 0, b"[externally-managed]\n"),
]


@pytest.mark.unit
def test_ar_members_and_control_are_read_without_dpkg(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "libc6.deb", "libc6", _LIBC, source="glibc")
    with deb.open("rb") as f:
        assert [m.name for m in ar_members(f, "libc6.deb")] == [
            "debian-binary",
            "control.tar.xz",
            "data.tar.xz",
        ]
    control = DebFile(deb).control()
    assert control.startswith("Package: libc6\n")
    assert "Source: glibc" in control


@pytest.mark.unit
def test_not_a_deb_is_a_build_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.deb"
    bogus.write_bytes(b"PK\x03\x04 not an ar archive")
    with pytest.raises(BuildError, match=r"x\.deb"):
        DebFile(bogus)


@pytest.mark.unit
def test_unpack_maps_into_merged_usr_and_keeps_owners(tmp_path: Path) -> None:
    tree = Tree(tmp_path / "root")
    DebFile(make_deb(tmp_path / "libc6.deb", "libc6", _LIBC)).unpack_into(tree)
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" in tree.entries
    assert "lib/x86_64-linux-gnu/libc.so.6" not in tree.entries
    link = tree.entries["usr/lib64/ld-linux-x86-64.so.2"]
    assert link.kind == "symlink"
    assert link.linkname == "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    local = tree.entries["var/local"]
    assert (local.mode, local.uid, local.gid) == (0o2775, 0, 50)
    assert tree.entries["usr/lib/x86_64-linux-gnu/libc.so.6"].mode == 0o755


@pytest.mark.unit
def test_a_member_climbing_out_of_the_root_is_refused(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "evil.deb", "evil", [("../etc/x", "file", 0o644, 0, 0, b"x")])
    with pytest.raises(BuildError, match="climbs out"):
        DebFile(deb).unpack_into(Tree(tmp_path / "root"))


@pytest.mark.unit
def test_writes_through_a_symlink_stay_inside_the_image(tmp_path: Path) -> None:
    outside = tmp_path / "host-etc"
    outside.mkdir()
    deb = make_deb(
        tmp_path / "sneaky.deb",
        "sneaky",
        [("./x", "symlink", 0o777, 0, 0, str(outside)), ("./x/passwd", "file", 0o644, 0, 0, b"p")],
    )
    tree = Tree(tmp_path / "root")
    DebFile(deb).unpack_into(tree)
    assert list(outside.iterdir()) == []
    assert tree.read_bytes(str(outside).lstrip("/") + "/passwd") == b"p"


@pytest.mark.unit
def test_fixups_write_what_maintainer_scripts_would(tmp_path: Path) -> None:
    tree = Tree(tmp_path / "root")
    controls = []
    for name, data in (("libc6", _LIBC), ("ca-certificates", _CERTS)):
        deb = DebFile(make_deb(tmp_path / f"{name}.deb", name, data, source="src-" + name))
        controls.append(deb.control())
        deb.unpack_into(tree)
    apply_fixups(tree, controls, "3.11")
    for top in ("lib", "lib64", "bin"):
        if f"usr/{top}" in tree.entries:
            assert tree.entries[top].linkname == f"usr/{top}"
    assert tree.read_bytes("etc/passwd") == b"root:*:0:0:root:/root:/bin/sh\n"
    assert tree.read_bytes("etc/group") is not None
    # C order: uppercase before lowercase; a missing final newline is added.
    assert tree.read_bytes("etc/ssl/certs/ca-certificates.crt") == b"B-cert\na-cert\n"
    assert tree.entries["usr/lib/ssl/cert.pem"].linkname == "/etc/ssl/certs/ca-certificates.crt"
    assert tree.entries["tmp"].mode == 0o1777
    assert tree.read_bytes("etc/resolv.conf") == b""
    assert b"localhost" in (tree.read_bytes("etc/hosts") or b"")
    assert tree.entries["usr/local/lib/python3.11/dist-packages"].kind == "dir"
    assert "usr/lib/python3.11/EXTERNALLY-MANAGED" not in tree
    assert tree.read_bytes("usr/lib/python3.11/os.py") == b"# os\n"
    assert tree.entries["usr/bin/python3"].linkname == "python3.11"
    status = (tree.read_bytes("var/lib/dpkg/status") or b"").decode()
    assert status.index("Package: ca-certificates") < status.index("Package: libc6")
    assert "Package: libc6\nStatus: install ok installed\n" in status
    assert "Source: src-libc6" in status


@pytest.mark.unit
def test_dpkg_status_replaces_an_existing_status_line() -> None:
    text = dpkg_status(["Package: b\nStatus: purge\nVersion: 1\n", "Package: a\nVersion: 2\n"])
    assert text == (
        "Package: a\nStatus: install ok installed\nVersion: 2\n\n"
        "Package: b\nStatus: install ok installed\nVersion: 1\n"
    )


@pytest.mark.unit
def test_a_zstd_data_member_unpacks_and_a_corrupt_one_is_named(tmp_path: Path) -> None:
    # Ubuntu's and newer Debian tools' .debs compress data.tar with zstd.
    deb = make_deb(tmp_path / "z.deb", "z", _CERTS, compress="zst")
    tree = Tree(tmp_path / "root")
    DebFile(deb).unpack_into(tree)
    assert tree.read_bytes("usr/lib/python3.11/os.py") == b"# os\n"
    raw = bytearray(deb.read_bytes())
    raw[-12:-4] = bytes(8)  # inside the zstd frame: its checksum or last block
    deb.write_bytes(bytes(raw))
    with pytest.raises(BuildError, match=r"z.deb: the data member is not valid zstd"):
        DebFile(deb).unpack_into(Tree(tmp_path / "other"))
