"""Small .deb and wheel archives built in the tests, byte by byte, without dpkg or pip."""

from __future__ import annotations

import io
import lzma
import subprocess
import tarfile
import zipfile
from pathlib import Path

Member = tuple[str, str, int, int, int, bytes | str]  # name, kind, mode, uid, gid, data|link


def tar_bytes(members: list[Member], compress: str = "xz") -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, kind, mode, uid, gid, payload in members:
            info = tarfile.TarInfo(name)
            info.mode, info.uid, info.gid, info.mtime = mode, uid, gid, 1700000000
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                assert isinstance(payload, str)
                info.linkname = payload
                tar.addfile(info)
            else:
                assert isinstance(payload, bytes)
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    data = raw.getvalue()
    if compress == "zst":
        zstd = ["zstd", "-q", "-c"]
        return subprocess.run(zstd, input=data, capture_output=True, check=True).stdout
    return lzma.compress(data) if compress == "xz" else data


def ar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    out = bytearray(b"!<arch>\n")
    for name, data in members:
        header = (
            f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(data):<10}".encode() + b"`\n"
        )
        assert len(header) == 60
        out += header + data
        if len(data) % 2:
            out += b"\n"
    return bytes(out)


def make_deb(
    path: Path,
    package: str,
    data: list[Member],
    source: str | None = None,
    compress: str = "xz",
) -> Path:
    control = f"Package: {package}\nVersion: 1.0-1\nArchitecture: amd64\n"
    if source:
        control += f"Source: {source}\n"
    control += "Description: test package\n"
    control_tar = tar_bytes(
        [("./", "dir", 0o755, 0, 0, b""), ("./control", "file", 0o644, 0, 0, control.encode())]
    )
    path.write_bytes(
        ar_bytes(
            [
                ("debian-binary", b"2.0\n"),
                ("control.tar.xz", control_tar),
                (f"data.tar.{compress}", tar_bytes(data, compress)),
            ]
        )
    )
    return path


def make_wheel(
    path: Path, name: str, version: str, files: dict[str, bytes], entry_points: str = ""
) -> Path:
    info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as zf:
        for member, data in files.items():
            zinfo = zipfile.ZipInfo(member)
            zinfo.external_attr = (0o755 if member.endswith(".sh") else 0o644) << 16
            zf.writestr(zinfo, data)
        zf.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        zf.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        if entry_points:
            zf.writestr(f"{info}/entry_points.txt", entry_points)
        zf.writestr(f"{info}/RECORD", f"{name}/__init__.py,sha256=abc,3\n{info}/RECORD,,\n")
    return path
