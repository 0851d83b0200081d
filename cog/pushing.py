"""``cog push``: build the project's image, send it to a registry, attach cog.lock and the SBOM.

The counterpart of ``cog/building.py``: the CLI parses the flags and prints; what is built,
where it goes and in which order the registry sees it is decided here. The image is sent
first (only the blobs the registry lacks, the manifest last), then cog.lock and the SBOM
as OCI referrers of its manifest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cog.building import BuildResult
from cog.config import Config
from cog.errors import CogError
from cog.progress import Progress
from cog.rules.registry import push as push_image
from cog.rules.registry.reference import Reference, model_reference
from cog.rules.registry.referrers import attach_lock_and_sbom


@dataclass(frozen=True)
class Pushed:
    destination: Reference
    digest: str  # of the manifest, as the registry has it
    uploaded: int  # blobs sent
    skipped: int  # blobs the registry had
    mounted: int  # blobs mounted from another repository of the registry


def push_destination(config: Config, image: str | None, config_file: str) -> Reference:
    """Where the image goes: ``image``, else cog.yaml's ``image``."""
    name = image or config.image
    if name is None:
        raise CogError(
            f"no image to push: give one as an argument or set image in {config_file}",
            "For example: cog push my-registry.example:5000/me/my-model",
        )
    return model_reference(name)


def push_project(
    destination: Reference,
    build: Callable[[], BuildResult],
    progress: Callable[[], Progress],  # made once the build is done, for the upload
    *,
    pushed: Callable[[Pushed], None] = lambda _: None,
) -> Pushed:
    """Build with ``build``, push the image to ``destination`` (``pushed`` is told once the
    manifest is there), then attach cog.lock and the SBOM to it."""
    built = build()
    result = push_image(built.layout, built.manifest_digest, str(destination), progress=progress())
    done = Pushed(
        destination,
        result.digest,
        uploaded=len(result.uploaded),
        skipped=len(result.skipped),
        mounted=len(result.mounted),
    )
    pushed(done)
    attach_lock_and_sbom(
        str(destination),
        built.layout,
        built.manifest_digest,
        built.lock.read_text(encoding="utf-8"),
        built.sbom.read_bytes(),
    )
    return done
