"""What a scanner (syft, trivy) finds in the image's /var/lib/dpkg/status is what the
SBOM lists. syft is neither in Debian bookworm nor on PyPI, so the scanner here is its
dpkg cataloguer's rule written out: each installed stanza becomes
``pkg:deb/debian/NAME@VERSION?arch=A&distro=debian-12[&upstream=SOURCE[@SOURCE_VERSION]]``.
The status file is the one the build writes (``rootfs_fixups.dpkg_status``) from the
packages' control files.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

from cog.rules.lockfile_text import loads
from cog.rules.rootfs_fixups import dpkg_status
from cog.rules.sbom import sbom_from_lock

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sbom"


def control_stanzas(text: str) -> list[dict[str, str]]:
    """Debian control format: paragraphs split by blank lines, continuation lines start
    with a space."""
    stanzas: list[dict[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", text.strip("\n")):
        fields: dict[str, str] = {}
        key = ""
        for line in paragraph.split("\n"):
            if line[:1] in (" ", "\t"):
                fields[key] += "\n" + line[1:]
                continue
            key, _, value = line.partition(":")
            fields[key] = value.strip()
        stanzas.append(fields)
    return stanzas


def scanner_purls(status: str) -> set[str]:
    purls: set[str] = set()
    for stanza in control_stanzas(status):
        if stanza.get("Status") != "install ok installed":
            continue
        qualifiers = [("arch", stanza["Architecture"]), ("distro", "debian-12")]
        source = stanza.get("Source")
        if source:
            match = re.fullmatch(r"(\S+)(?: \((\S+)\))?", source)
            assert match is not None, source
            upstream = match.group(1) + (f"@{match.group(2)}" if match.group(2) else "")
            qualifiers.append(("upstream", upstream))
        query = "&".join(f"{k}={quote(v, safe='+~._-')}" for k, v in qualifiers)
        version = quote(stanza["Version"], safe="+~._-:")
        purls.add(f"pkg:deb/debian/{stanza['Package']}@{version}?{query}")
    return purls


def sbom_deb_purls() -> set[str]:
    lock = loads((FIXTURES / "cog.lock").read_text(encoding="utf-8"), "cog.lock")
    doc = sbom_from_lock(lock, image_name="m", manifest_digest=None, env={})
    return {
        ref["referenceLocator"]
        for package in doc["packages"]
        for ref in package.get("externalRefs", [])
        if ref["referenceLocator"].startswith("pkg:deb/")
    }


@pytest.mark.unit
def test_dpkg_status_scan_finds_the_sboms_os_packages() -> None:
    controls = re.split(r"\n\n(?=Package:)", (FIXTURES / "controls.txt").read_text("utf-8"))
    status = dpkg_status(controls)
    sbom_debs = sbom_deb_purls()
    found = scanner_purls(status)
    assert len(found) == 5
    assert found == sbom_debs


@pytest.mark.unit
def test_scanner_tells_a_missing_package_apart() -> None:
    controls = re.split(r"\n\n(?=Package:)", (FIXTURES / "controls.txt").read_text("utf-8"))
    status = dpkg_status(controls[1:])
    sbom_debs = sbom_deb_purls()
    assert sbom_debs - scanner_purls(status) == {
        "pkg:deb/debian/libc6@2.36-9+deb12u10?arch=amd64&distro=debian-12&upstream=glibc"
    }
