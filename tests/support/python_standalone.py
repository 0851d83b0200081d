"""Stand-in python-build-standalone (pbs) archives, served from a mirror on 127.0.0.1.

The real pbs release host cannot be reached from the test machines, so tests make archives
of the same layout and serve them as MIRROR/<release>/<file>, the way uv reads
UV_PYTHON_INSTALL_MIRROR. STAND-IN: the interpreter inside an archive is the host's pyenv
CPython build of that version (/root/.pyenv/versions), not a pbs build, made relocatable
the way pbs builds are (RUNPATH ``$ORIGIN/../lib``) and trimmed (no tests, no tkinter, of
site-packages only pip, as in pbs's install_only archives). It links a few Debian
libraries that a real pbs build carries itself: a project using it adds EXTRA_LIBS to its
system_packages. The archives' sha256 are not in third_party/python_standalone.toml: a
table of their own (write_table), named by COG_PYTHON_STANDALONE_TABLE, pins them, so a
build still checks the lock's sha256 against the bytes it fetched.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import io
import struct
import tarfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

PYENV = Path("/root/.pyenv/versions")
RELEASE = "20990101"
FILE = f"cpython-{{}}+{RELEASE}-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz"
TABLE_ENV = "COG_PYTHON_STANDALONE_TABLE"
MIRROR_ENV = "UV_PYTHON_INSTALL_MIRROR"
# What the pyenv builds link that the Debian base image lacks (a pbs build carries these).
EXTRA_LIBS = ("libffi8", "liblzma5", "libbz2-1.0", "libuuid1", "libsqlite3-0")
_SKIP_DIRS = {"test", "tests", "idlelib", "tkinter", "turtledemo", "__pycache__", "ensurepip"}


@dataclass(frozen=True)
class Standin:
    version: str  # "3.12.1"
    file: str  # the archive's file name in RELEASE
    sha256: str


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def pyenv_build(minor_or_patch: str) -> Path | None:
    """The newest pyenv build of a minor ("3.12") or that exact patch version, if any."""
    minor = ".".join(minor_or_patch.split(".")[:2])
    found = [
        v
        for v in PYENV.glob(f"{minor}.*")
        if (v / f"bin/python{minor}").is_file()
        and (minor_or_patch == minor or v.name == minor_or_patch)
        and v.name.replace(".", "").isdigit()
    ]
    return max(found, key=lambda v: _key(v.name)) if found else None


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


def _add_file(tar: tarfile.TarFile, path: Path, name: str, data: bytes | None = None) -> None:
    info = tar.gettarinfo(str(path), name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if data is None:
        with path.open("rb") as f:
            tar.addfile(info, f)
    else:
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def _wanted(rel: Path) -> bool:
    if set(rel.parts) & _SKIP_DIRS or rel.parts[0].startswith("config-"):
        return False
    if rel.parts[0] == "site-packages":  # pip only, as pbs ships it
        return len(rel.parts) > 1 and rel.parts[1].split("-")[0] == "pip"
    return True


def make_standin_archive(source: Path, version: str, dest: Path) -> Path:
    """``source`` (a pyenv build) packed as a pbs install_only archive: root ``python/``."""
    minor = ".".join(version.split(".")[:2])
    with tarfile.open(dest, "w:gz") as tar:
        for binary in (f"bin/python{minor}", f"lib/libpython{minor}.so.1.0"):
            data = bytearray((source / binary).read_bytes())
            set_runpath(data, b"$ORIGIN/../lib")
            _add_file(tar, source / binary, f"python/{binary}", bytes(data))
        _add_file(tar, source / f"bin/pip{minor}", f"python/bin/pip{minor}")
        link = tarfile.TarInfo("python/bin/python3")
        link.type, link.linkname = tarfile.SYMTYPE, f"python{minor}"
        tar.addfile(link)
        stdlib = source / "lib" / f"python{minor}"
        for path in sorted(stdlib.rglob("*")):
            rel = path.relative_to(stdlib)
            if _wanted(rel) and path.is_file() and not path.is_symlink():
                _add_file(tar, path, f"python/lib/python{minor}/{rel}")
    return dest


def make_mirror(mirror: Path, sources: Sequence[Path]) -> list[Standin]:
    """One archive per pyenv build in ``sources``, under ``mirror``/RELEASE/."""
    (mirror / RELEASE).mkdir(parents=True, exist_ok=True)
    made = []
    for source in sources:
        archive = make_standin_archive(
            source, source.name, mirror / RELEASE / FILE.format(source.name)
        )
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        made.append(Standin(source.name, archive.name, digest))
    return made


def write_table(path: Path, standins: Sequence[Standin], *, sha256: str | None = None) -> Path:
    """A python_standalone table pinning ``standins`` (each with ``sha256`` if given)."""
    rows = "".join(
        f'  {{ version = "{s.version}", arch = "amd64", release = "{RELEASE}", '
        f'file = "{s.file}", sha256 = "{sha256 or s.sha256}" }},\n'
        for s in standins
    )
    path.write_text(f'format = 1\nbase_suite = "bookworm"\nbuilds = [\n{rows}]\n')
    return path


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve_mirror(directory: Path) -> Iterator[str]:
    """``directory`` over HTTP on 127.0.0.1; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def one_input_project(root: Path, version: str, system_packages: tuple[str, ...] = ()) -> Path:
    """The Python matrix's model (one str input) for python_version VERSION, in ROOT."""
    root.mkdir(parents=True)
    packages = "".join(f'    - "{p}"\n' for p in system_packages)
    listed = f"  system_packages:\n{packages}" if packages else ""
    (root / "cog.yaml").write_text(
        f'build:\n  python_version: "{version}"\n{listed}predict: "predict.py:Predictor"\n'
    )
    (root / "predict.py").write_text(
        "from cog import BasePredictor, Input\n\n\nclass Predictor(BasePredictor):\n"
        '    def predict(self, text: str = Input(description="text")) -> str:\n'
        '        return "hello " + text\n'
    )
    return root
