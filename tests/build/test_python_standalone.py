"""A python-build-standalone (pbs) interpreter locked, fetched from the user's uv mirror,
built into an image on Debian bookworm, and run.

The real pbs release host cannot be reached from here, so the test makes an archive of the
same layout and serves it from a mirror on 127.0.0.1 (MIRROR/<release>/<file>, as uv reads
UV_PYTHON_INSTALL_MIRROR). STAND-IN: the interpreter inside is the host's pyenv CPython
3.12 build (not a pbs build), made relocatable the way pbs builds are (its RUNPATH set to
``$ORIGIN/../lib``) and trimmed; it links a few Debian libraries that a real pbs build
carries itself, so the project adds them as system_packages. Its sha256 is not in
third_party/python_standalone.toml: the test pins it in a table of its own, named by
COG_PYTHON_STANDALONE_TABLE, so the build's fetch checks the lock's sha256 against the
bytes it got.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import shutil
import struct
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cog.rules.cache import Cache
from cog.rules.lockfile_text import loads

from cog.building import build_project
from cog.errors import FetchError
from cog.locking import lock_project
from cog.progress import NullProgress
from tests.build._runc import free_port, get_json, run_once, serving, unpack, wait_ready

pytestmark = [pytest.mark.integration, pytest.mark.network]

RELEASE = "20990101"
FILE = f"cpython-{{}}+{RELEASE}-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
_SKIP_DIRS = {"test", "idlelib", "tkinter", "turtledemo", "__pycache__", "ensurepip"}
_EXTRA_LIBS = ["libffi8", "liblzma5", "libbz2-1.0", "libuuid1", "libsqlite3-0"]


def _pyenv_312() -> Path | None:
    versions = sorted(Path("/root/.pyenv/versions").glob("3.12.*"))
    found = [v for v in versions if (v / "bin/python3.12").is_file()]
    return found[-1] if found else None


def set_runpath(data: bytearray, runpath: bytes) -> None:
    """Rewrite an ELF64 file's DT_RUNPATH/DT_RPATH string in place (shorter only)."""
    assert data[:4] == b"\x7fELF"
    assert data[4] == 2  # ELF64 little-endian only
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
    ]
    for _, sh_type, _, _, offset, size, link, _, _, _ in sections:
        if sh_type != 6:  # SHT_DYNAMIC
            continue
        dynstr = sections[link][4]
        for at in range(offset, offset + size, 16):
            tag, value = struct.unpack_from("<qQ", data, at)
            if tag in (15, 29):  # DT_RPATH, DT_RUNPATH
                start = dynstr + value
                end = data.index(b"\0", start)
                assert len(runpath) <= end - start
                data[start:end] = runpath.ljust(end - start, b"\0")
                return
    raise AssertionError("no RUNPATH")


def make_standin_archive(source: Path, version: str, dest: Path) -> Path:
    """``source`` (a pyenv build) packed as a pbs install_only archive: root ``python/``."""
    minor = ".".join(version.split(".")[:2])

    def add_file(tar: tarfile.TarFile, path: Path, name: str, data: bytes | None = None) -> None:
        info = tar.gettarinfo(str(path), name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        if data is None:
            with path.open("rb") as f:
                tar.addfile(info, f)
        else:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

    with tarfile.open(dest, "w:gz") as tar:
        for binary in (f"bin/python{minor}", f"lib/libpython{minor}.so.1.0"):
            data = bytearray((source / binary).read_bytes())
            set_runpath(data, b"$ORIGIN/../lib")
            add_file(tar, source / binary, f"python/{binary}", bytes(data))
        pip = (source / f"bin/pip{minor}").read_bytes()
        add_file(tar, source / f"bin/pip{minor}", f"python/bin/pip{minor}", pip)
        link = tarfile.TarInfo("python/bin/python3")
        link.type, link.linkname = tarfile.SYMTYPE, f"python{minor}"
        tar.addfile(link)
        stdlib = source / "lib" / f"python{minor}"
        for path in sorted(stdlib.rglob("*")):
            rel = path.relative_to(stdlib)
            if set(rel.parts) & _SKIP_DIRS or rel.parts[0].startswith("config-"):
                continue
            if path.is_file() and not path.is_symlink():
                add_file(tar, path, f"python/lib/python{minor}/{rel}")
    return dest


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """(mirror directory, version, sha256) of the stand-in archive."""
    source = _pyenv_312()
    if source is None:
        pytest.skip("no pyenv CPython 3.12 on this host to make the stand-in archive from")
    version = source.name
    mirror = tmp_path_factory.mktemp("mirror")
    (mirror / RELEASE).mkdir()
    archive = make_standin_archive(source, version, mirror / RELEASE / FILE.format(version))
    return mirror, version, hashlib.sha256(archive.read_bytes()).hexdigest()


@pytest.fixture
def mirror_server(standin: tuple[Path, str, str]) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(standin[0]))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _table(path: Path, version: str, sha256: str) -> Path:
    path.write_text(
        'format = 1\nbase_suite = "bookworm"\nbuilds = [\n'
        f'  {{ version = "{version}", arch = "amd64", release = "{RELEASE}", '
        f'file = "{FILE.format(version)}", sha256 = "{sha256}" }},\n]\n'
    )
    return path


def _project(root: Path, python_version: str) -> Path:
    root.mkdir()
    packages = "".join(f'    - "{p}"\n' for p in _EXTRA_LIBS)
    (root / "cog.yaml").write_text(
        f'build:\n  python_version: "{python_version}"\n  system_packages:\n{packages}'
        'predict: "predict.py:Predictor"\n'
    )
    (root / "predict.py").write_text(
        "from cog import BasePredictor, Input\n\n\nclass Predictor(BasePredictor):\n"
        '    def predict(self, text: str = Input(description="text")) -> str:\n'
        '        return "hello " + text\n'
    )
    return root


def _build(project: Path, cache: Path, cog_source: Path) -> str:
    result = build_project(
        project,
        tag="standalone",
        separate_weights=False,
        no_cache=False,
        progress=NullProgress(),
        cache=Cache(cache),
        cog_source=cog_source,
    )
    return result.manifest_digest


def test_a_patch_pin_builds_from_the_mirror_and_runs(
    standin: tuple[Path, str, str],
    mirror_server: str,
    tmp_path: Path,
    cog_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, version, sha256 = standin
    monkeypatch.setenv(
        "COG_PYTHON_STANDALONE_TABLE", str(_table(tmp_path / "t.toml", version, sha256))
    )
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror_server)
    project = _project(tmp_path / "model", version)
    lock_project(project, progress=NullProgress())
    lock = loads((project / "cog.lock").read_text(), "cog.lock")
    assert lock.interpreter is not None
    assert (lock.interpreter.source, lock.interpreter.version) == (
        "python-build-standalone",
        version,
    )
    assert (lock.interpreter.release, lock.interpreter.sha256) == (RELEASE, sha256)
    assert not any(d.name.startswith("python3") for d in lock.debian)
    assert "127.0.0.1" not in (project / "cog.lock").read_text()

    digest = _build(project, tmp_path / "cache", cog_source)
    bundle = tmp_path / "bundle"
    unpack(project / ".cog/image", "standalone", bundle)
    rootfs = bundle / "rootfs"
    assert (rootfs / "usr/local/bin/python").is_symlink()
    # pip is a wheel of the lock's model set (the archive's own is left out), on PATH.
    assert not (rootfs / "usr/local/bin/pip3.12").exists()
    for script in ("pip", "pip3"):
        pip_script = (rootfs / "usr/local/bin" / script).read_bytes()
        assert pip_script.startswith(b"#!/usr/local/bin/python3.12\n")
    pips = sorted(p.name for p in (rootfs / "usr/local/lib/python3.12/site-packages").glob("pip*"))
    assert [n for n in pips if n.endswith(".dist-info")] == [
        f"pip-{next(w.version for w in lock.python if w.name == 'pip')}.dist-info"
    ]
    pycs = list((rootfs / "usr/local/lib/python3.12").glob("__pycache__/os.cpython-312.pyc"))
    assert pycs
    assert pycs[0].read_bytes()[4:8] == b"\x01\x00\x00\x00"  # unchecked-hash
    ran = run_once(bundle, ["python", "-c", "import sys, pip; print(sys.version.split()[0])"])
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == version
    ran = run_once(bundle, ["pip", "--version"])
    assert ran.returncode == 0, ran.stderr
    assert "/usr/local/lib/python3.12/site-packages/pip (python 3.12)" in ran.stdout
    with serving(bundle, free_port()) as base:
        health = wait_ready(base)
        assert health["status"] == "READY", health
        prediction = get_json(f"{base}/predictions", {"input": {"text": "pbs"}})
    assert prediction["output"] == "hello pbs"
    # A fresh cache fetches the archive again and gives the same image.
    shutil.rmtree(project / ".cog")
    assert _build(project, tmp_path / "cache2", cog_source) == digest


def test_an_archive_that_does_not_match_the_lock_is_refused(
    standin: tuple[Path, str, str],
    mirror_server: str,
    tmp_path: Path,
    cog_source: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, version, _ = standin
    table = _table(tmp_path / "t.toml", version, "0" * 64)
    monkeypatch.setenv("COG_PYTHON_STANDALONE_TABLE", str(table))
    monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror_server)
    project = _project(tmp_path / "model", version)
    lock_project(project, progress=NullProgress())
    with pytest.raises(FetchError, match="sha256"):
        _build(project, tmp_path / "cache", cog_source)
