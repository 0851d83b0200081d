"""Finding the image a command names: the project's build, a local layout, or a registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cog._container.image import Image, load_image, resolve_tag, tags
from cog.errors import RunError
from cog.progress import Progress
from cog.rules._files import default_cache_root as cache_root

if TYPE_CHECKING:
    from cog.config import Config

PROJECT_LAYOUT = Path(".cog") / "image"


def pulled_layout() -> Path:
    """One OCI layout holding every image cog pulled, tagged by full reference."""
    return cache_root() / "images"


def build_current_project(
    project_dir: Path, config_file: str, progress: Progress, *, config: Config | None = None
) -> Image:
    from cog.building import build_project  # noqa: PLC0415 (the build stack loads on demand)

    result = build_project(
        project_dir,
        config_file=config_file,
        tag=None,
        separate_weights=False,
        no_cache=False,
        progress=progress,
        config=config,
    )
    return load_image(result.layout, result.manifest_digest)


def resolve_image(
    name: str | None,
    project_dir: Path,
    config_file: str,
    progress: Progress,
    *,
    config: Config | None = None,
) -> Image:
    """The image ``name`` refers to; without a name, the project built from its lock
    (``config``: its cog.yaml, when the caller has read it already)."""
    if name is None:
        return build_current_project(project_dir, config_file, progress, config=config)
    if name.startswith("oci:"):
        return _from_layout_reference(name[len("oci:") :])
    project_layout = project_dir / PROJECT_LAYOUT
    if (project_layout / "index.json").is_file() and name in tags(project_layout):
        return load_image(project_layout, tags(project_layout)[name])
    key = pulled_name(name)
    if (pulled_layout() / "index.json").is_file() and key in tags(pulled_layout()):
        return load_image(pulled_layout(), tags(pulled_layout())[key])
    return pull_image(name, progress=progress)


def pulled_name(name: str) -> str:
    """The tag a pulled image gets in the shared layout: its full, canonical reference."""
    from cog.rules.registry.reference import parse_reference  # noqa: PLC0415

    return str(parse_reference(name))


def _from_layout_reference(spec: str) -> Image:
    path, _, tag = spec.partition(":")
    layout = Path(path)
    if not (layout / "index.json").is_file():
        raise RunError(f"{layout} is not an OCI image layout (no index.json)")
    return load_image(layout, resolve_tag(layout, tag or None))


def pull_image(name: str, *, platform: str = "linux/amd64", progress: Progress) -> Image:
    """Pull ``name`` into the shared layout (only the blobs the cache lacks)."""
    from cog.rules.registry import pull  # noqa: PLC0415 (network stack loads on demand)

    layout = pulled_layout()
    result = pull(
        name,
        layout,
        cache_dir=cache_root(),
        platform=platform,
        progress=progress,
        tag_as=pulled_name(name),
    )
    return load_image(layout, result.manifest_digest)
