"""The model of cog.lock: every input of a build, pinned by content.

No field holds a location (host name, mirror, index URL): a lock made on one machine
builds the same image on any other, behind any mirror or proxy. Where a thing comes from
is decided at fetch time from the user's own configuration; what it is, is decided here.

The text codec lives apart from the model (``lockfile_text``), as pex keeps its lockfile
model apart from its JSON codec.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LOCK_VERSION = 1

Sha256 = str  # 64 lowercase hex digits


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Target(_Frozen):
    """What the image runs on."""

    os: Literal["linux"] = "linux"
    arch: Literal["amd64", "arm64"] = "amd64"
    python_version: str  # "3.11": the interpreter's minor version (paths in the image)
    gpu: bool = False
    debian_suite: str  # "bookworm": chosen from third_party's python_version map


class Interpreter(_Frozen):
    """Where the image's Python comes from: Debian's own packages (they are in [[debian]]),
    or a python-build-standalone build pinned by release, file name and sha256."""

    source: Literal["debian", "python-build-standalone"]
    version: str  # "3.12.16": what `python -V` prints in the image
    release: str | None = None  # python-build-standalone's release tag
    filename: str | None = None  # the archive's name in that release, never a URL
    sha256: Sha256 | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class DebPackage(_Frozen):
    """One Debian binary package, as its suite's Packages index describes it."""

    name: str
    version: str
    architecture: str  # "amd64", "arm64" or "all"
    suite: str  # the suite whose index listed it ("bookworm-security"): it picks the archive
    filename: str  # path inside that archive ("pool/main/...deb"), never a URL
    sha256: Sha256
    size: int
    source: str | None = None  # Source: field, for SBOM purls
    installed_size: int | None = None  # KiB


class Wheel(_Frozen):
    """One wheel for the target platform."""

    name: str  # normalised project name
    version: str
    filename: str
    sha256: Sha256
    size: int


class Sdist(Wheel):
    """A source distribution the image's wheel is built from (no wheel fits the target).

    Fetched like a wheel (by name, filename and sha256); ``build_requires`` pins the
    ``[[build_python]]`` wheels its build backend needs, as ``name==version``.
    """

    build_requires: tuple[str, ...] = ()


class WeightsFile(_Frozen):
    """One file under a configured weights path, relative to the project directory."""

    path: str
    sha256: Sha256
    size: int


class Lock(_Frozen):
    version: int = LOCK_VERSION
    inputs_sha256: Sha256  # checksum of cog.yaml and every file it names (requirements)
    target: Target
    interpreter: Interpreter | None = None  # None in locks written before it existed: Debian
    debian: tuple[DebPackage, ...] = Field(default=())
    python: tuple[Wheel, ...] = Field(default=())  # the model's own dependencies
    runtime: tuple[Wheel, ...] = Field(default=())  # the cog runtime and its dependencies
    weights: tuple[WeightsFile, ...] = Field(default=())
    # Packages built from source at build time (see the README, "Packages built from
    # sdists"), the wheels their backends need, and the compilers: the Debian closure of
    # the image's packages with build-essential, unpacked only for the build, never
    # into the image.
    sdist: tuple[Sdist, ...] = Field(default=())
    build_python: tuple[Wheel, ...] = Field(default=())
    build_debian: tuple[DebPackage, ...] = Field(default=())
