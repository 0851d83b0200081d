"""Fetching one suite's package index: InRelease verified by gpgv, Packages.xz by hash.

The hash chain: InRelease (signature checked, only the signed text is parsed) lists the
sha256 and size of Packages.xz, fetched from by-hash so it cannot change under us; each
stanza's SHA256 covers its .deb. The parsed index is cached by the sha256 of Packages.xz,
so a warm re-lock reads a small JSON file instead of unxz-ing and parsing 50 MB.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from cog.errors import LockError
from cog.rules._files import atomic_write
from cog.rules.debian.control import KEPT_FIELDS, iter_stanzas
from cog.rules.debian.index_fetch import TransportError, get_bytes
from cog.rules.host_tools import require

_CACHE_FORMAT = 1


@dataclass(frozen=True)
class SuiteSource:
    """Where one suite is read from, and the setting that said so."""

    uri: str
    suite: str
    components: tuple[str, ...]
    keyring: str
    setting: str  # e.g. "/etc/apt/sources.list.d/debian.sources" or "COG_DEBIAN_MIRROR"


@dataclass(frozen=True, slots=True)
class IndexedPackage:
    name: str
    version: str
    architecture: str
    filename: str
    sha256: str
    size: int
    source: str | None
    installed_size: int | None
    depends: str
    pre_depends: str
    provides: str
    essential: bool
    suite: str


def _row(stanza: dict[str, str]) -> list[object]:
    installed = stanza.get("Installed-Size")
    return [
        stanza["Package"],
        stanza["Version"],
        stanza["Architecture"],
        stanza["Filename"],
        stanza["SHA256"],
        int(stanza["Size"]),
        stanza.get("Source"),
        int(installed) if installed else None,
        stanza.get("Depends", ""),
        stanza.get("Pre-Depends", ""),
        stanza.get("Provides", ""),
        stanza.get("Essential") == "yes",
    ]


def package_from_row(row: list[Any], suite: str) -> IndexedPackage:
    name, version, arch, filename, sha256, size, source, installed, dep, pre, prov, ess = row
    return IndexedPackage(
        name, version, arch, filename, sha256, size, source, installed, dep, pre, prov, ess, suite
    )


def parse_packages(text: str) -> list[list[object]]:
    return [_row(s) for s in iter_stanzas(text, KEPT_FIELDS) if "SHA256" in s]


def verify_inrelease(data: bytes, keyring: str, url: str) -> str:
    """The signed text of an InRelease file; LockError when the signature is bad."""
    with tempfile.TemporaryDirectory(prefix="cog-gpgv-") as tmp:
        signed = Path(tmp) / "InRelease"
        signed.write_bytes(data)
        out = Path(tmp) / "verified"
        proc = subprocess.run(
            [require("gpgv", LockError), "--keyring", keyring, "--output", str(out), str(signed)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            detail = proc.stderr.strip().splitlines()[-1:] or ["no detail"]
            raise LockError(
                f"the signature of {url} does not verify against {keyring}: {detail[0]}",
                hint="The mirror served a modified or unsigned index. Use a trusted mirror, "
                "or install the archive's keyring (debian-archive-keyring).",
            )
        return out.read_text()


def release_hashes(release_text: str) -> tuple[dict[str, tuple[str, int]], bool]:
    """path -> (sha256, size) from the SHA256 field, and whether by-hash is offered."""
    fields = next(iter_stanzas(release_text), {})
    hashes: dict[str, tuple[str, int]] = {}
    for line in fields.get("SHA256", "").split("\n"):
        parts = line.split()
        if len(parts) == 3:
            hashes[parts[2]] = (parts[0], int(parts[1]))
    return hashes, fields.get("Acquire-By-Hash", "no").lower() == "yes"


def check_valid_until(release_text: str, url: str, now: datetime | None = None) -> None:
    """Refuse an expired index (a mirror replaying old security data), as apt does.

    COG_DEBIAN_ALLOW_EXPIRED=1 accepts one, for snapshot mirrors of a past date.
    """
    fields = next(iter_stanzas(release_text), {})
    valid_until = fields.get("Valid-Until")
    if valid_until is None or os.environ.get("COG_DEBIAN_ALLOW_EXPIRED") == "1":
        return
    try:
        expires = parsedate_to_datetime(valid_until)
    except (TypeError, ValueError):
        raise LockError(f"{url}: unreadable Valid-Until {valid_until!r}") from None
    if expires < (now or datetime.now(UTC)):
        raise LockError(
            f"{url} expired on {valid_until} (Valid-Until): the mirror serves stale data",
            hint="Use an up-to-date mirror, or set COG_DEBIAN_ALLOW_EXPIRED=1 for a "
            "snapshot mirror of a past date.",
        )


def _unreachable(source: SuiteSource, error: TransportError) -> LockError:
    return LockError(
        f"cannot read the Debian suite {source.suite} from {source.uri} "
        f"(set in {source.setting}): {error.reason}",
        hint=f"Fix the mirror in {source.setting}, or set COG_DEBIAN_MIRROR "
        "(and COG_DEBIAN_SECURITY_MIRROR for the security suite) to a reachable mirror.",
    )


def _download_packages(
    source: SuiteSource, path: str, sha256: str, size: int, by_hash: bool
) -> bytes:
    base = f"{source.uri}/dists/{source.suite}"
    urls = [f"{base}/{path}"]
    if by_hash:
        folder = path.rsplit("/", 1)[0]
        urls.insert(0, f"{base}/{folder}/by-hash/SHA256/{sha256}")
    last: TransportError | None = None
    for url in urls:
        try:
            data = get_bytes(url)
        except TransportError as e:
            last = e
            if e.status == 404:
                continue
            raise _unreachable(source, e) from e
        if len(data) != size or hashlib.sha256(data).hexdigest() != sha256:
            raise LockError(
                f"{url} does not match the size and sha256 its signed InRelease lists",
                hint="The mirror is inconsistent or mid-update; retry, or use another mirror.",
            )
        return data
    assert last is not None
    raise _unreachable(source, last)


@dataclass(frozen=True)
class SuiteRelease:
    """A suite's verified InRelease: what its Packages indexes must hash to."""

    source: SuiteSource
    url: str
    hashes: dict[str, tuple[str, int]]  # path -> (sha256, size)
    by_hash: bool
    indexes: tuple[str, ...]  # the Packages.xz paths to read, one per listed component

    def index_digests(self) -> tuple[str, ...]:
        return tuple(self.hashes[path][0] for path in self.indexes)


def read_release(source: SuiteSource, arch: str) -> SuiteRelease:
    url = f"{source.uri}/dists/{source.suite}/InRelease"
    try:
        raw = get_bytes(url)
    except TransportError as e:
        raise _unreachable(source, e) from e
    verified = verify_inrelease(raw, source.keyring, url)
    check_valid_until(verified, url)
    hashes, by_hash = release_hashes(verified)
    # A component this suite does not carry (updates without contrib) is skipped.
    indexes = tuple(
        path
        for path in (f"{c}/binary-{arch}/Packages.xz" for c in source.components)
        if path in hashes
    )
    if not indexes:
        raise LockError(
            f"{url} lists no Packages index for {arch} in {', '.join(source.components)}",
            hint=f"Check the suite and components in {source.setting}.",
        )
    return SuiteRelease(source, url, hashes, by_hash, indexes)


def load_packages(release: SuiteRelease, cache_dir: Path) -> list[IndexedPackage]:
    packages: list[IndexedPackage] = []
    for path in release.indexes:
        sha256, size = release.hashes[path]
        rows = _cached_rows(cache_dir, sha256)
        if rows is None:
            xz = _download_packages(release.source, path, sha256, size, release.by_hash)
            data = lzma.decompress(xz)
            plain = release.hashes.get(path[: -len(".xz")])
            if plain is not None and hashlib.sha256(data).hexdigest() != plain[0]:
                raise LockError(f"{release.url}: {path} does not unpack to its listed hash")
            rows = parse_packages(data.decode("utf-8"))
            _store_rows(cache_dir, sha256, rows)
        packages.extend(package_from_row(row, release.source.suite) for row in rows)
    return packages


def fetch_suite(source: SuiteSource, arch: str, cache_dir: Path) -> list[IndexedPackage]:
    return load_packages(read_release(source, arch), cache_dir)


def _cache_path(cache_dir: Path, sha256: str) -> Path:
    return cache_dir / "debian-index" / f"{sha256}.v{_CACHE_FORMAT}.json"


def _cached_rows(cache_dir: Path, sha256: str) -> list[list[object]] | None:
    path = _cache_path(cache_dir, sha256)
    try:
        rows: list[list[object]] = json.loads(path.read_bytes())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return rows


def _store_rows(cache_dir: Path, sha256: str, rows: list[list[object]]) -> None:
    data = json.dumps(rows, separators=(",", ":")).encode()
    atomic_write(_cache_path(cache_dir, sha256), data)
