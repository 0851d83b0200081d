"""An SPDX 2.3 software bill of materials for an image, made from its cog.lock.

The lock already pins every input by content, so the SBOM is a function of the lock (and
of the license texts the build can read): the same lock gives byte-identical JSON. There
is no clock (``created`` is SOURCE_DATE_EPOCH, else the epoch) and the document namespace
is derived from the image's manifest digest. No download location is written: the lock
holds none, and where a package came from is the user's configuration, not the image's.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cog.rules.cache import Cache
from cog.rules.lockfile import DebPackage, Lock, Wheel
from cog.rules.lockfile_text import dumps

NOASSERTION = "NOASSERTION"
SPDX_MEDIA_TYPE = "application/spdx+json"
DebLicenseLookup = Callable[[DebPackage], str | None]
WheelLicenseLookup = Callable[[Wheel], str | None]

# Debian's codename → release number, for purls' distro=debian-N (as scanners write it).
_DEBIAN_RELEASES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}
# forky (testing) has no number yet: its purls say distro=debian-forky.

# Debian copyright short names and common free-text names → SPDX license identifiers.
_LICENSE_ALIASES = {
    "apache-2": "Apache-2.0",
    "apache-2.0": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "artistic": "Artistic-1.0-Perl",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "cc0": "CC0-1.0",
    "cc0-1.0": "CC0-1.0",
    "expat": "MIT",
    "gpl-1+": "GPL-1.0-or-later",
    "gpl-2": "GPL-2.0-only",
    "gpl-2+": "GPL-2.0-or-later",
    "gpl-3": "GPL-3.0-only",
    "gpl-3+": "GPL-3.0-or-later",
    "isc": "ISC",
    "isc license (iscl)": "ISC",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2+": "LGPL-2.0-or-later",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-2.1+": "LGPL-2.1-or-later",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl-3+": "LGPL-3.0-or-later",
    "mit": "MIT",
    "mit license": "MIT",
    "mpl-2.0": "MPL-2.0",
    "mozilla public license 2.0 (mpl 2.0)": "MPL-2.0",
    "psf": "PSF-2.0",
    "psf-2.0": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "public-domain": "LicenseRef-public-domain",
    "unlicense": "Unlicense",
    "the unlicense (unlicense)": "Unlicense",
    "zlib": "Zlib",
    "zlib/libpng": "Zlib",
}
_OPERATORS = {"and": "AND", "or": "OR", "with": "WITH"}
_SPDX_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]+")
# SPDX ids kept as written (case-insensitively) besides the aliases' targets.
_KNOWN_IDS = {
    i.lower(): i
    for i in (
        *_LICENSE_ALIASES.values(),
        *("0BSD", "Apache-1.1", "BSD-1-Clause", "BSL-1.0", "CC-BY-4.0", "curl", "EPL-2.0"),
        *("GPL-2.0-only", "GPL-3.0-only", "HPND", "MIT-0", "NCSA", "OpenSSL", "Python-2.0"),
        *("GPL-2.0-or-later", "GPL-3.0-or-later", "LGPL-2.1-or-later", "X11", "WTFPL"),
        *("Classpath-exception-2.0", "GCC-exception-3.1", "LLVM-exception", "BSD-4-Clause"),
    )
}


def _spdx_id(*parts: str) -> str:
    return "SPDXRef-" + "-".join(_SPDX_ID_CHARS.sub("-", p).strip("-") for p in parts)


def _license_ref(name: str) -> str:
    return "LicenseRef-" + (_SPDX_ID_CHARS.sub("-", name).strip("-") or "unknown")


def _license_token(token: str) -> str:
    known = _LICENSE_ALIASES.get(token.lower()) or _KNOWN_IDS.get(token.lower())
    if known is not None:
        return known
    return token if token.startswith("LicenseRef-") else _license_ref(token)


def spdx_expression(text: str) -> str:
    """A license text as an SPDX license expression: operators upper-cased, each operand
    (a word run between operators) mapped to its SPDX id, unknown ones to LicenseRef-.
    """
    out: list[str] = []
    phrase: list[str] = []
    for token in re.findall(r"\(|\)|[^\s()]+", text.replace(",", " and ")):
        if token in ("(", ")") or token.lower() in _OPERATORS:
            if phrase:
                out.append(_license_token(" ".join(phrase)))
                phrase = []
            out.append(_OPERATORS.get(token.lower(), token))
        else:
            phrase.append(token)
    if phrase:
        out.append(_license_token(" ".join(phrase)))
    return (
        " ".join(_fold_unknown_exceptions(out)).replace("( ", "(").replace(" )", ")") or NOASSERTION
    )


def _fold_unknown_exceptions(out: list[str]) -> list[str]:
    # SPDX 2.3 allows only listed exception ids after WITH: "X WITH <unknown>" becomes
    # one LicenseRef naming both.
    folded: list[str] = []
    for token in out:
        after_operand = len(folded) >= 2 and folded[-2] not in ("(", ")", "AND", "OR")
        if after_operand and folded[-1] == "WITH" and token.startswith("LicenseRef-"):
            base = folded[-2].removeprefix("LicenseRef-")
            folded[-2:] = [_license_ref(f"{base}-with-{token.removeprefix('LicenseRef-')}")]
            continue
        folded.append(token)
    return folded


def _distro(suite: str) -> str:
    codename = suite.split("-", maxsplit=1)[0]
    return f"debian-{_DEBIAN_RELEASES.get(codename, codename)}"


def _pct(text: str, safe: str = "+~._-") -> str:
    return quote(text, safe=safe)


def deb_purl(pkg: DebPackage, suite: str) -> str:
    """``pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12[&upstream=SRC[@VER]]``."""
    qualifiers = [("arch", pkg.architecture), ("distro", _distro(suite))]
    if pkg.source:
        # "Source: glibc (2.36-9+deb12u4)": the source version only when it differs.
        name, _, rest = pkg.source.partition(" ")
        version = rest.strip().strip("()")
        qualifiers.append(("upstream", f"{name}@{version}" if version else name))
    query = "&".join(f"{k}={_pct(v)}" for k, v in sorted(qualifiers))
    # The version keeps its epoch colon as written, as packageurl-go (syft) writes it.
    return f"pkg:deb/debian/{_pct(pkg.name)}@{_pct(pkg.version, '+~._-:')}?{query}"


def wheel_purl(wheel: Wheel) -> str:
    name = re.sub(r"[-_.]+", "-", wheel.name).lower()
    return f"pkg:pypi/{_pct(name)}@{_pct(wheel.version)}"


def _created(source_date_epoch: int | None, env: Mapping[str, str]) -> str:
    if source_date_epoch is None:
        raw = env.get("SOURCE_DATE_EPOCH", "").strip()
        source_date_epoch = int(raw) if raw.isdigit() else 0
    return datetime.fromtimestamp(source_date_epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _namespace(image_name: str, manifest_digest: str | None, lock: Lock) -> str:
    # Derived, not random: the same image always gets the same namespace.
    anchor = manifest_digest or "lock:" + hashlib.sha256(dumps(lock).encode()).hexdigest()
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'cog-sbom:{image_name}@{anchor}')}"


def _checksum(sha256: str) -> list[dict[str, str]]:
    return [{"algorithm": "SHA256", "checksumValue": sha256}]


def _purl_ref(purl: str) -> list[dict[str, str]]:
    return [
        {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}
    ]


def _package(spdx_id: str, name: str, version: str, declared: str | None) -> dict[str, Any]:
    return {
        "SPDXID": spdx_id,
        "name": name,
        "versionInfo": version,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": spdx_expression(declared) if declared else NOASSERTION,
        "copyrightText": NOASSERTION,
    }


def _deb_package(pkg: DebPackage, suite: str, lookup: DebLicenseLookup | None) -> dict[str, Any]:
    entry = _package(
        _spdx_id("deb", pkg.name, pkg.architecture, pkg.sha256[:12]),
        pkg.name,
        pkg.version,
        lookup(pkg) if lookup else None,
    )
    entry["supplier"] = "Organization: Debian"
    if pkg.source:
        entry["sourceInfo"] = f"built from Debian source package {pkg.source}"
    entry["packageFileName"] = pkg.filename.rsplit("/", 1)[-1]
    entry["checksums"] = _checksum(pkg.sha256)
    entry["externalRefs"] = _purl_ref(deb_purl(pkg, suite))
    return entry


def _wheel_package(wheel: Wheel, role: str, lookup: WheelLicenseLookup | None) -> dict[str, Any]:
    entry = _package(
        _spdx_id("pypi", wheel.name, wheel.sha256[:12]),
        wheel.name,
        wheel.version,
        lookup(wheel) if lookup else None,
    )
    entry["supplier"] = NOASSERTION
    entry["packageFileName"] = wheel.filename
    entry["checksums"] = _checksum(wheel.sha256)
    entry["externalRefs"] = _purl_ref(wheel_purl(wheel))
    entry["comment"] = role
    entry["primaryPackagePurpose"] = "LIBRARY"
    return entry


def python_purl(version: str, sha256: str) -> str:
    """CPython from python-build-standalone, as syft names a CPython it finds in an image."""
    return f"pkg:generic/python@{_pct(version)}?checksum={_pct('sha256:' + sha256, '._-:')}"


def _interpreter_package(lock: Lock) -> dict[str, Any] | None:
    pinned = lock.interpreter
    if pinned is None or pinned.sha256 is None:
        return None  # Debian's own python3.X: its debs are listed with their purls
    entry = _package(
        _spdx_id("python", pinned.version, pinned.sha256[:12]), "python", pinned.version, "PSF-2.0"
    )
    entry["supplier"] = "Organization: Python Software Foundation"
    entry["sourceInfo"] = f"python-build-standalone release {pinned.release}"
    entry["packageFileName"] = pinned.filename or NOASSERTION
    entry["checksums"] = _checksum(pinned.sha256)
    cpe = f"cpe:2.3:a:python:python:{pinned.version}:*:*:*:*:*:*:*"
    entry["externalRefs"] = [
        *_purl_ref(python_purl(pinned.version, pinned.sha256)),
        {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe},
    ]
    entry["primaryPackagePurpose"] = "APPLICATION"
    return entry


def _image_package(image_name: str, manifest_digest: str | None) -> dict[str, Any]:
    entry = _package("SPDXRef-Image", image_name, manifest_digest or NOASSERTION, None)
    entry["supplier"] = NOASSERTION
    entry["primaryPackagePurpose"] = "CONTAINER"
    if manifest_digest:
        entry["checksums"] = _checksum(manifest_digest.removeprefix("sha256:"))
    return entry


def sbom_from_lock(
    lock: Lock,
    *,
    image_name: str,
    manifest_digest: str | None,
    license_lookup: DebLicenseLookup | None = None,
    wheel_license_lookup: WheelLicenseLookup | None = None,
    source_date_epoch: int | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The SPDX 2.3 document of the image ``image_name`` built from ``lock``.

    One package per Debian package, wheel (model dependencies and the cog runtime) and
    weights file. Weights are packages rather than SPDX files because SPDX 2.3 requires a
    SHA1 on every file and the lock pins SHA256 only.
    """
    env = os.environ if env is None else env
    suite = lock.target.debian_suite
    packages = [_image_package(image_name, manifest_digest)]
    packages += [_deb_package(p, suite, license_lookup) for p in lock.debian]
    if (interpreter := _interpreter_package(lock)) is not None:
        packages.append(interpreter)
    wheels: dict[str, tuple[Wheel, list[str]]] = {}
    sections = (
        ("model dependency", lock.python),
        ("model dependency, built from its sdist", lock.sdist),
        ("cog runtime", lock.runtime),
    )
    for role, section in sections:
        for w in section:
            wheels.setdefault(w.sha256, (w, []))[1].append(role)
    packages += [
        _wheel_package(w, ", ".join(roles), wheel_license_lookup) for w, roles in wheels.values()
    ]
    for f in lock.weights:
        entry = _package(_spdx_id("weights", f.path, f.sha256[:12]), f.path, NOASSERTION, None)
        entry.update(supplier=NOASSERTION, packageFileName=f.path, checksums=_checksum(f.sha256))
        entry["primaryPackagePurpose"] = "FILE"
        packages.append(entry)
    packages.sort(key=lambda p: str(p["SPDXID"]))
    relationships = [
        {
            "spdxElementId": "SPDXRef-DOCUMENT",
            "relationshipType": "DESCRIBES",
            "relatedSpdxElement": "SPDXRef-Image",
        }
    ]
    relationships += [
        {
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": p["SPDXID"],
        }
        for p in packages
        if p["SPDXID"] != "SPDXRef-Image"
    ]
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image_name,
        "documentNamespace": _namespace(image_name, manifest_digest, lock),
        "creationInfo": {"created": _created(source_date_epoch, env), "creators": ["Tool: cog"]},
        "packages": packages,
        "relationships": relationships,
        "hasExtractedLicensingInfos": _extracted_refs(packages),
    }


def _extracted_refs(packages: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """SPDX requires every LicenseRef- used to be declared with some text."""
    refs = sorted(
        {
            token.strip("()")
            for p in packages
            for token in str(p["licenseDeclared"]).split()
            if token.strip("()").startswith("LicenseRef-")
        }
    )
    return [
        {
            "licenseId": ref,
            "name": ref.removeprefix("LicenseRef-"),
            "extractedText": f"License named {ref.removeprefix('LicenseRef-')!r} by the package",
        }
        for ref in refs
    ]


def dumps_sbom(doc: Mapping[str, Any]) -> bytes:
    """The document's bytes: sorted keys, two-space indent, a final newline."""
    return (json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def copyright_licenses(text: str) -> str | None:
    """The ``License:`` fields of a machine-readable Debian copyright file, joined with
    AND in order of first appearance; None for a free-form file (nothing to assert).
    """
    if "Format:" not in text.split("\n\n", 1)[0]:
        return None
    names: dict[str, None] = {}
    for line in text.splitlines():
        if line.startswith("License:"):
            value = line.partition(":")[2].strip()
            if value:
                names[value] = None
    if not names:
        return None
    parts = [f"({n})" if " " in n and len(names) > 1 else n for n in names]
    return " and ".join(parts)


def deb_license_lookup(rootfs: Path) -> DebLicenseLookup:
    """Licenses from an unpacked rootfs's /usr/share/doc/NAME/copyright."""

    def lookup(pkg: DebPackage) -> str | None:
        path = rootfs / "usr" / "share" / "doc" / pkg.name / "copyright"
        if path.is_symlink() or not path.is_file():
            return None  # a link could point outside the rootfs
        return copyright_licenses(path.read_text(encoding="utf-8", errors="replace"))

    return lookup


def metadata_license(metadata: str) -> str | None:
    """A wheel METADATA's license: License-Expression, else a one-line License, else the
    ``License ::`` classifiers (each one's last segment).
    """
    msg = email.parser.HeaderParser().parsestr(metadata)
    expression = msg.get("License-Expression")
    if expression and expression.strip():
        return str(expression).strip()
    free = str(msg.get("License") or "").strip()
    if free and "\n" not in free and len(free) <= 80 and free.upper() != "UNKNOWN":
        return free
    classifiers = [
        str(c).rsplit("::", 1)[-1].strip()
        for c in msg.get_all("Classifier") or []
        if str(c).startswith("License ::") and str(c).count("::") >= 2
    ]
    return " or ".join(dict.fromkeys(classifiers)) or None


def wheel_license_lookup(wheel_path: Callable[[Wheel], Path | None]) -> WheelLicenseLookup:
    """Licenses from each wheel's METADATA, for the wheels ``wheel_path`` can find (the
    build's cache: ``lambda w: cache.blob_path(w.sha256)``).
    """

    def lookup(wheel: Wheel) -> str | None:
        path = wheel_path(wheel)
        if path is None or not path.is_file():
            return None
        try:
            with zipfile.ZipFile(path) as archive:
                name = next(
                    (n for n in archive.namelist() if n.endswith(".dist-info/METADATA")), None
                )
                if name is None or name.count("/") != 1:
                    return None
                return metadata_license(archive.read(name).decode("utf-8", errors="replace"))
        except zipfile.BadZipFile:
            return None

    return lookup


def image_sbom(
    lock: Lock,
    *,
    image_name: str,
    manifest_digest: str | None,
    rootfs: Path | None = None,
    cache: Cache | None = None,
) -> bytes:
    """The SBOM's bytes for a build: deb licenses from ``rootfs`` (an unpacked image) and
    wheel licenses from the wheels in ``cache``, where given.
    """
    doc = sbom_from_lock(
        lock,
        image_name=image_name,
        manifest_digest=manifest_digest,
        license_lookup=deb_license_lookup(rootfs) if rootfs else None,
        wheel_license_lookup=wheel_license_lookup(lambda w: cache.blob_path(w.sha256))
        if cache
        else None,
    )
    return dumps_sbom(doc)
