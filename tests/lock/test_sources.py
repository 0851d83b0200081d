"""Where packages come from: apt sources, pip and uv configuration, wheel lookup."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog.errors import LockError
from cog.rules.debian.targets import debian_data
from cog.rules.lockfile import DebPackage, Wheel
from cog.rules.pylock.index_config import IndexConfig, read_index_config
from cog.rules.pylock.urls import wheel_urls
from cog.rules.sources import deb_urls, debian_archives, suite_sources

DEB822 = """\
Types: deb
# a comment inside the stanza
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://other.invalid/node
Suites: nodistro
Components: main
"""


@pytest.fixture
def etc_apt(tmp_path: Path) -> Path:
    root = tmp_path / "apt"
    (root / "sources.list.d").mkdir(parents=True)
    (root / "sources.list.d" / "debian.sources").write_text(DEB822)
    (root / "sources.list.d" / "ignored.list.disabled").write_text("deb http://x.invalid y z\n")
    return root


@pytest.mark.unit
def test_deb822_sources(etc_apt: Path) -> None:
    main, security = debian_archives(etc_apt=etc_apt, env={})
    assert (main.kind, main.uri, main.components) == (
        "main",
        "http://mirror.invalid/debian",
        ("main", "contrib"),
    )
    assert security.uri == "http://mirror.invalid/debian-security"
    assert security.setting.endswith("debian.sources")


@pytest.mark.unit
def test_one_line_sources_and_trixie_from_a_bookworm_host(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "# comment\n"
        "deb-src http://src.invalid/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://m.invalid/debian/ bookworm main\n"
        "deb http://s.invalid/debian-security bookworm-security main\n"
    )
    sources = suite_sources(debian_data().suites["trixie"], etc_apt=tmp_path, env={})
    assert [(s.uri, s.suite, s.keyring) for s in sources] == [
        ("http://m.invalid/debian", "trixie", "/k.gpg"),
        ("http://m.invalid/debian", "trixie-updates", "/k.gpg"),
        (
            "http://s.invalid/debian-security",
            "trixie-security",
            "/usr/share/keyrings/debian-archive-keyring.gpg",
        ),
    ]


@pytest.mark.unit
def test_env_overrides_and_missing_security(etc_apt: Path, tmp_path: Path) -> None:
    env = {"COG_DEBIAN_MIRROR": "http://env.invalid/d/", "COG_DEBIAN_KEYRING": "/kr.gpg"}
    main, security = debian_archives(etc_apt=etc_apt, env=env)
    assert (main.uri, main.setting, main.keyring) == (
        "http://env.invalid/d",
        "COG_DEBIAN_MIRROR",
        "/kr.gpg",
    )
    assert security.uri == "http://mirror.invalid/debian-security"
    with pytest.raises(LockError, match="no Debian security archive") as info:
        suite_sources(debian_data().suites["bookworm"], etc_apt=tmp_path, env=env)
    assert info.value.hint is not None
    assert "COG_DEBIAN_SECURITY_MIRROR" in info.value.hint


@pytest.mark.unit
def test_deb_urls_pick_the_archive_by_suite(etc_apt: Path) -> None:
    pkg = DebPackage(
        name="libssl3",
        version="3.0.16-1~deb12u1",
        architecture="amd64",
        suite="bookworm-security",
        filename="pool/updates/main/o/openssl/libssl3.deb",
        sha256="0" * 64,
        size=1,
    )
    assert deb_urls(pkg, etc_apt=etc_apt, env={}) == [
        "http://mirror.invalid/debian-security/pool/updates/main/o/openssl/libssl3.deb"
    ]


@pytest.mark.unit
def test_pip_and_uv_configuration_merge(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nindex_url = https://pip.invalid/simple\n"
        "extra-index-url = file:///a/simple\n  file:///b/simple\nfind-links = /wheels\n"
    )
    (home / ".config" / "uv").mkdir(parents=True)
    (home / ".config" / "uv" / "uv.toml").write_text(
        '[[index]]\nurl = "https://uv.invalid/simple"\n\n'
        '[[index]]\nurl = "https://explicit.invalid/simple"\nexplicit = true\n'
    )
    env = {"XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_FIND_LINKS": "/opt/w1 /opt/w2"}
    config = read_index_config(env=env, home=home)
    assert config.index_url == "https://pip.invalid/simple"
    assert config.extra_index_urls == (
        "https://uv.invalid/simple",
        "file:///a/simple",
        "file:///b/simple",
    )
    assert config.find_links == ("/opt/w1", "/opt/w2")  # the environment beats pip.conf
    assert config.origin_of("/opt/w1") == "PIP_FIND_LINKS"
    uv_env = env | {"UV_DEFAULT_INDEX": "https://d.invalid/simple", "UV_FIND_LINKS": "/x,/y"}
    config = read_index_config(env=uv_env, home=home)
    assert config.index_url == "https://d.invalid/simple"
    assert config.find_links[:2] == ("/x", "/y")
    nothing = {"PIP_CONFIG_FILE": "/dev/null", "UV_NO_CONFIG": "1"}
    assert read_index_config(env=nothing, home=home) == IndexConfig()


@pytest.mark.unit
def test_wheel_urls_from_simple_pages_and_find_links(tmp_path: Path) -> None:
    name = "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / name).write_bytes(b"x")
    page = tmp_path / "simple" / "torch"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<html><body><a href="../../files/{name.replace("+", "%2B")}#sha256=00">{name}</a>'
    )
    wheel = Wheel(name="Torch", version="2.13.0+cpu", filename=name, sha256="1" * 64, size=1)
    env = {"PIP_CONFIG_FILE": "/dev/null", "UV_NO_CONFIG": "1"}
    env |= {"PIP_EXTRA_INDEX_URL": (tmp_path / "simple").as_uri(), "PIP_FIND_LINKS": str(wheels)}
    config = read_index_config(env=env, home=tmp_path)
    urls = wheel_urls(wheel, config, cache=tmp_path / "cache")
    assert urls == [(wheels / name).as_uri(), (tmp_path / "files" / name).as_uri()]
