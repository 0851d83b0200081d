"""Install wheels into a layer tree the way pip would, without running pip in the image.

Files land where Debian's python3.X looks (``posix_local`` scheme):
purelib/platlib in ``/usr/local/lib/python3.X/dist-packages``, scripts (and console entry
points) in ``/usr/local/bin`` with ``#!/usr/bin/python3``, ``.data/data`` under
``/usr/local``, headers under ``/usr/local/include/python3.X/<name>``. ``INSTALLER`` is
written and RECORD lists what was installed.
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from cog.errors import BuildError

from .tree import Tree, normalise

INSTALLER = b"cog\n"
_SHEBANG_PYTHON = re.compile(rb"^#!python\w*([ \t].*)?$")
_SCRIPT = """\
#!{interpreter}
import re
import sys
from {module} import {attr}
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit({call}())
"""


@dataclass(frozen=True)
class InstalledDist:
    name: str
    version: str


def site_packages(python_version: str) -> str:
    return f"usr/local/lib/python{python_version}/dist-packages"


@dataclass(frozen=True)
class PythonLayout:
    """Where an image's interpreter looks for packages, and what a script's #! names."""

    version: str
    site: str  # in-image, without the leading /
    interpreter: str  # absolute
    bin: str = "usr/local/bin"  # where scripts go, without the leading /

    @classmethod
    def debian(cls, version: str) -> PythonLayout:
        return cls(version, site_packages(version), "/usr/bin/python3")

    @classmethod
    def upstream(cls, version: str) -> PythonLayout:
        """python.org's layout (the official python images): everything under /usr/local."""
        return cls(
            version,
            f"usr/local/lib/python{version}/site-packages",
            f"/usr/local/bin/python{version}",
        )


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={digest.decode()}"


def _dist_info_dir(zf: zipfile.ZipFile, origin: str) -> str:
    tops = {n.split("/", 1)[0] for n in zf.namelist()}
    infos = sorted(t for t in tops if t.endswith(".dist-info"))
    if len(infos) != 1:
        raise BuildError(f"{origin}: expected one .dist-info directory, found {infos or 'none'}")
    return infos[0]


def _destination(name: str, data_dir: str, layout: PythonLayout, dist: str) -> tuple[str, bool]:
    """In-image path of a wheel member, and whether it is a script."""
    site, python_version = layout.site, layout.version
    if not name.startswith(data_dir + "/"):
        return f"{site}/{name}", False
    scheme, _, rest = name[len(data_dir) + 1 :].partition("/")
    match scheme:
        case "purelib" | "platlib":
            return f"{site}/{rest}", False
        case "scripts":
            return f"{layout.bin}/{rest}", True
        case "data":
            return f"usr/local/{rest}", False
        case "headers":
            return f"usr/local/include/python{python_version}/{dist}/{rest}", False
    raise BuildError(f"{data_dir}: unknown wheel data scheme {scheme!r}")


def _fix_shebang(data: bytes, interpreter: str) -> bytes:
    first, nl, rest = data.partition(b"\n")
    if _SHEBANG_PYTHON.match(first.rstrip(b"\r")):
        return b"#!" + interpreter.encode() + nl + rest
    return data


def install_wheel(
    tree: Tree, wheel: Path, python_version: str, layout: PythonLayout | None = None
) -> InstalledDist:
    origin = wheel.name
    layout = layout or PythonLayout.debian(python_version)
    site = layout.site
    with zipfile.ZipFile(wheel) as zf:
        info_dir = _dist_info_dir(zf, origin)
        meta = HeaderParser().parsestr(zf.read(f"{info_dir}/METADATA").decode("utf-8"))
        dist, version = meta["Name"], meta["Version"]
        data_dir = info_dir[: -len(".dist-info")] + ".data"
        original = _read_record(zf, f"{info_dir}/RECORD")
        records: list[tuple[str, str, str]] = []
        for member in sorted(zf.infolist(), key=lambda m: m.filename):
            if member.is_dir():
                continue
            rel = normalise(member.filename)
            if rel == f"{info_dir}/RECORD":
                continue
            dest, is_script = _destination(rel, data_dir, layout, dist)
            exec_bit = (member.external_attr >> 16) & 0o111
            mode = 0o755 if exec_bit or is_script else 0o644
            if is_script:
                data = _fix_shebang(zf.read(member), layout.interpreter)
                tree.add_bytes(dest, data, mode)
                records.append((posixpath.relpath(dest, site), _record_hash(data), str(len(data))))
            else:
                with zf.open(member) as stream:
                    tree.add_stream(dest, stream, mode)
                digest, size = original.get(rel, ("", ""))
                records.append((posixpath.relpath(dest, site), digest, size))
        entry_points = (
            zf.read(f"{info_dir}/entry_points.txt").decode()
            if (f"{info_dir}/entry_points.txt" in zf.namelist())
            else ""
        )
    for script, data in _console_scripts(entry_points, origin, layout.interpreter):
        dest = f"{layout.bin}/{script}"
        tree.add_bytes(dest, data, 0o755)
        records.append((posixpath.relpath(dest, site), _record_hash(data), str(len(data))))
    tree.add_bytes(f"{site}/{info_dir}/INSTALLER", INSTALLER)
    records.append((f"{info_dir}/INSTALLER", _record_hash(INSTALLER), str(len(INSTALLER))))
    records.append((f"{info_dir}/RECORD", "", ""))
    tree.add_bytes(f"{site}/{info_dir}/RECORD", _render_record(records))
    return InstalledDist(dist, version)


def _console_scripts(text: str, origin: str, interpreter: str) -> list[tuple[str, bytes]]:
    if not text:
        return []
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as e:
        raise BuildError(f"{origin}: unreadable entry_points.txt: {e}") from e
    scripts: list[tuple[str, bytes]] = []
    for section in ("console_scripts", "gui_scripts"):
        if not parser.has_section(section):
            continue
        for name, target in sorted(parser.items(section)):
            module, _, call = target.split("[")[0].strip().partition(":")
            attr = call.split(".")[0] or module.rsplit(".", 1)[-1]
            text_ = _SCRIPT.format(
                interpreter=interpreter, module=module, attr=attr, call=call or attr
            )
            scripts.append((name, text_.encode()))
    return scripts


def _read_record(zf: zipfile.ZipFile, name: str) -> dict[str, tuple[str, str]]:
    try:
        text = zf.read(name).decode("utf-8")
    except KeyError:
        return {}
    return {row[0]: (row[1], row[2]) for row in csv.reader(io.StringIO(text)) if len(row) >= 3}


def _render_record(rows: list[tuple[str, str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in sorted(set(rows)):
        writer.writerow(row)
    return out.getvalue().encode()
