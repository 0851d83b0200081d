"""The SPDX document made from a cog.lock: content, licenses, determinism."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from cog.rules.cache import Cache
from cog.rules.lockfile import DebPackage, Lock, Wheel
from cog.rules.lockfile_text import loads
from cog.rules.sbom import (
    copyright_licenses,
    deb_license_lookup,
    deb_purl,
    dumps_sbom,
    image_sbom,
    metadata_license,
    sbom_from_lock,
    spdx_expression,
    wheel_license_lookup,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sbom"
DIGEST = "sha256:" + "d" * 64
EPOCH = 1_700_000_000


def fixture_lock() -> Lock:
    return loads((FIXTURES / "cog.lock").read_text(encoding="utf-8"), "fixtures/sbom/cog.lock")


def wheels_with_metadata(root: Path) -> dict[str, Path]:
    """A wheel file per fixture METADATA, keyed by the wheel's sha256 in the fixture lock."""
    lock = fixture_lock()
    by_project = {w.filename.split("-")[0]: w for w in (*lock.python, *lock.runtime)}
    found: dict[str, Path] = {}
    for metadata in sorted((FIXTURES / "metadata").glob("*.METADATA")):
        wheel = by_project[metadata.stem]
        path = root / wheel.filename
        with zipfile.ZipFile(path, "w") as archive:
            dist_info = f"{metadata.stem}-{wheel.version}.dist-info"
            archive.writestr(f"{metadata.stem}/__init__.py", "")
            archive.writestr(f"{dist_info}/METADATA", metadata.read_text(encoding="utf-8"))
        found[wheel.sha256] = path
    return found


@pytest.mark.unit
def test_sbom_of_the_fixture_lock_is_the_hand_written_document(tmp_path: Path) -> None:
    wheels = wheels_with_metadata(tmp_path)
    doc = sbom_from_lock(
        fixture_lock(),
        image_name="hello:1.0",
        manifest_digest=DIGEST,
        license_lookup=deb_license_lookup(FIXTURES / "rootfs"),
        wheel_license_lookup=wheel_license_lookup(lambda w: wheels.get(w.sha256)),
        source_date_epoch=EPOCH,
    )
    expected = json.loads((FIXTURES / "expected.spdx.json").read_text(encoding="utf-8"))
    assert doc == expected
    assert dumps_sbom(doc) == (FIXTURES / "expected.spdx.json").read_bytes()


@pytest.mark.unit
def test_image_sbom_reads_wheels_from_the_cache_and_debs_from_the_rootfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = tmp_path / "cache" / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    for sha256, wheel in wheels_with_metadata(tmp_path).items():
        wheel.rename(blobs / sha256)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    made = image_sbom(
        fixture_lock(),
        image_name="hello:1.0",
        manifest_digest=DIGEST,
        rootfs=FIXTURES / "rootfs",
        cache=Cache(tmp_path / "cache"),
    )
    assert made == (FIXTURES / "expected.spdx.json").read_bytes()


@pytest.mark.unit
def test_same_lock_gives_the_same_bytes_whatever_the_entry_order() -> None:
    lock = fixture_lock()
    shuffled = lock.model_copy(
        update={
            "debian": tuple(reversed(lock.debian)),
            "python": tuple(reversed(lock.python)),
            "runtime": tuple(reversed(lock.runtime)),
        }
    )
    first = dumps_sbom(sbom_from_lock(lock, image_name="m", manifest_digest=DIGEST, env={}))
    again = dumps_sbom(sbom_from_lock(lock, image_name="m", manifest_digest=DIGEST, env={}))
    other = dumps_sbom(sbom_from_lock(shuffled, image_name="m", manifest_digest=DIGEST, env={}))
    assert first == again == other
    assert json.loads(first)["creationInfo"]["created"] == "1970-01-01T00:00:00Z"


@pytest.mark.unit
def test_created_comes_from_source_date_epoch() -> None:
    doc = sbom_from_lock(
        fixture_lock(),
        image_name="m",
        manifest_digest=DIGEST,
        env={"SOURCE_DATE_EPOCH": str(EPOCH)},
    )
    assert doc["creationInfo"]["created"] == "2023-11-14T22:13:20Z"


@pytest.mark.unit
def test_namespace_follows_the_manifest_digest_or_else_the_lock() -> None:
    lock = fixture_lock()

    def namespace(digest: str | None, lock: Lock = lock) -> str:
        doc = sbom_from_lock(lock, image_name="m", manifest_digest=digest, env={})
        return str(doc["documentNamespace"])

    assert namespace(DIGEST) == namespace(DIGEST)
    assert namespace(DIGEST) != namespace("sha256:" + "e" * 64)
    assert namespace(None) == namespace(None)
    changed = lock.model_copy(update={"weights": ()})
    assert namespace(None) != namespace(None, changed)
    assert namespace(None).startswith("urn:uuid:")


@pytest.mark.unit
def test_without_lookups_every_license_is_noassertion() -> None:
    doc = sbom_from_lock(fixture_lock(), image_name="m", manifest_digest=None, env={})
    declared = {p["licenseDeclared"] for p in doc["packages"]}
    assert declared == {"NOASSERTION"}
    assert doc["hasExtractedLicensingInfos"] == []
    image = doc["packages"][0]
    assert image["SPDXID"] == "SPDXRef-Image"
    assert "checksums" not in image


@pytest.mark.unit
@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("GPL-2+", "GPL-2.0-or-later"),
        ("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0-Perl"),
        ("(LGPL-2.1+ or MPL-2.0) and Expat", "(LGPL-2.1-or-later OR MPL-2.0) AND MIT"),
        ("Apache-2.0 OR MIT", "Apache-2.0 OR MIT"),
        ("GPL-3+ with GCC-exception-3.1", "GPL-3.0-or-later WITH GCC-exception-3.1"),
        ("mit", "MIT"),
        ("Some Vendor License", "LicenseRef-Some-Vendor-License"),
        ("LicenseRef-Custom", "LicenseRef-Custom"),
        ("BSD-3-clause with Vendor-exception", "LicenseRef-BSD-3-Clause-with-Vendor-exception"),
        (
            "(GPL-2 with Font-exception) or MIT",
            "(LicenseRef-GPL-2.0-only-with-Font-exception) OR MIT",
        ),
    ],
)
def test_spdx_expression(text: str, expression: str) -> None:
    assert spdx_expression(text) == expression


@pytest.mark.unit
def test_copyright_file_license_fields() -> None:
    text = (FIXTURES / "rootfs/usr/share/doc/libc6/copyright").read_text(encoding="utf-8")
    assert copyright_licenses(text) == "LGPL-2.1+ and GPL-2+"
    assert copyright_licenses("Free-form text.\nLicense: GPL\n") is None


@pytest.mark.unit
def test_deb_lookup_ignores_missing_and_linked_copyright_files(tmp_path: Path) -> None:
    doc = tmp_path / "usr/share/doc"
    (doc / "linked").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.write_text("Format: x\n\nFiles: *\nLicense: MIT\n", encoding="utf-8")
    (doc / "linked" / "copyright").symlink_to(outside)
    lookup = deb_license_lookup(tmp_path)

    def deb(name: str) -> DebPackage:
        return DebPackage(
            name=name,
            version="1",
            architecture="all",
            suite="bookworm",
            filename=f"pool/main/{name}.deb",
            sha256="0" * 64,
            size=1,
        )

    assert lookup(deb("linked")) is None
    assert lookup(deb("absent")) is None


@pytest.mark.unit
def test_metadata_license_prefers_expression_then_short_license_then_classifiers() -> None:
    assert metadata_license("License-Expression: MIT\nLicense: BSD\n\n") == "MIT"
    assert metadata_license("License: BSD-3-Clause\nClassifier: License :: X\n\n") == (
        "BSD-3-Clause"
    )
    assert (
        metadata_license(
            "License: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n"
            "Classifier: License :: OSI Approved :: Apache Software License\n\n"
        )
        == "MIT License or Apache Software License"
    )
    assert metadata_license("Name: x\n\n") is None


@pytest.mark.unit
def test_wheel_lookup_without_a_file_or_with_a_broken_one(tmp_path: Path) -> None:
    broken = tmp_path / "broken.whl"
    broken.write_bytes(b"not a zip")
    wheel = Wheel(name="x", version="1", filename="x-1-py3-none-any.whl", sha256="0" * 64, size=1)
    assert wheel_license_lookup(lambda _: None)(wheel) is None
    assert wheel_license_lookup(lambda _: broken)(wheel) is None


@pytest.mark.unit
def test_deb_purl_epoch_and_source_version() -> None:
    pkg = DebPackage(
        name="libgcc-s1",
        version="12.2.0-14+deb12u1",
        architecture="arm64",
        suite="bookworm-updates",
        filename="pool/main/g/gcc-12/libgcc-s1_12.2.0-14+deb12u1_arm64.deb",
        sha256="0" * 64,
        size=1,
        source="gcc-12 (12.2.0-14+deb12u1)",
    )
    assert deb_purl(pkg, "trixie") == (
        "pkg:deb/debian/libgcc-s1@12.2.0-14+deb12u1"
        "?arch=arm64&distro=debian-13&upstream=gcc-12%4012.2.0-14+deb12u1"
    )
