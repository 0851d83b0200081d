from __future__ import annotations

from pathlib import Path

import pytest

from cog.errors import BuildError
from cog.rules.pyc import python_prefix
from cog.rules.tree import Tree
from cog.rules.wheel import PythonLayout, install_wheel

from ._archives import make_wheel

SITE = "usr/local/lib/python3.11/dist-packages"


@pytest.mark.unit
def test_wheel_installs_into_debian_dist_packages(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path / "demo-1.0-py3-none-any.whl",
        "demo",
        "1.0",
        {
            "demo/__init__.py": b"X = 1\n",
            "demo-1.0.data/scripts/run-demo": b"#!python\nprint('hi')\n",
            "demo-1.0.data/data/share/demo/readme.txt": b"data\n",
            "demo-1.0.data/platlib/_demo_ext.py": b"",
        },
        entry_points="[console_scripts]\ndemo-cli = demo.cli:main\n",
    )
    tree = Tree(tmp_path / "root")
    dist = install_wheel(tree, wheel, "3.11")
    assert (dist.name, dist.version) == ("demo", "1.0")
    assert tree.read_bytes(f"{SITE}/demo/__init__.py") == b"X = 1\n"
    assert f"{SITE}/_demo_ext.py" in tree.entries
    assert tree.read_bytes("usr/local/share/demo/readme.txt") == b"data\n"
    script = tree.read_bytes("usr/local/bin/run-demo") or b""
    assert script.startswith(b"#!/usr/bin/python3\n")
    assert tree.entries["usr/local/bin/run-demo"].mode == 0o755
    cli = (tree.read_bytes("usr/local/bin/demo-cli") or b"").decode()
    assert cli.startswith("#!/usr/bin/python3\n")
    assert "from demo.cli import main" in cli
    assert tree.read_bytes(f"{SITE}/demo-1.0.dist-info/INSTALLER") == b"cog\n"
    record = (tree.read_bytes(f"{SITE}/demo-1.0.dist-info/RECORD") or b"").decode()
    assert "demo/__init__.py,sha256=abc,3" in record  # the wheel's own hash is kept
    assert "../../../bin/demo-cli,sha256=" in record
    assert "demo-1.0.dist-info/INSTALLER,sha256=" in record


@pytest.mark.unit
def test_a_wheel_member_climbing_out_is_refused(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "bad-1.0-py3-none-any.whl", "bad", "1.0", {"../../x.py": b""})
    with pytest.raises(BuildError, match="climbs out"):
        install_wheel(Tree(tmp_path / "root"), wheel, "3.11")


@pytest.mark.unit
def test_a_python_org_layout_uses_site_packages_and_its_interpreter(tmp_path: Path) -> None:
    wheel = make_wheel(
        tmp_path / "demo-1.0-py3-none-any.whl",
        "demo",
        "1.0",
        {"demo/__init__.py": b""},
        entry_points="[console_scripts]\ndemo-cli = demo:main\n",
    )
    tree = Tree(tmp_path / "root")
    install_wheel(tree, wheel, "3.12", PythonLayout.upstream("3.12"))
    assert "usr/local/lib/python3.12/site-packages/demo/__init__.py" in tree.entries
    cli = tree.read_bytes("usr/local/bin/demo-cli") or b""
    assert cli.startswith(b"#!/usr/local/bin/python3.12\n")


@pytest.mark.unit
def test_the_interpreter_prefix_is_read_from_the_rootfs(tmp_path: Path) -> None:
    debian, upstream = tmp_path / "debian", tmp_path / "upstream"
    (debian / "usr/bin").mkdir(parents=True)
    (debian / "usr/bin/python3.11").write_bytes(b"")
    (upstream / "usr/local/bin").mkdir(parents=True)
    (upstream / "usr/local/bin/python3.11").write_bytes(b"")
    # An absolute link is read inside the rootfs, never against the host.
    (upstream / "usr/bin").mkdir(parents=True)
    (upstream / "usr/bin/python3.11").symlink_to("/usr/local/bin/missing")
    assert python_prefix(debian, "3.11") == "usr"
    assert python_prefix(upstream, "3.11") == "usr/local"
    assert python_prefix(upstream, "3.12") is None
