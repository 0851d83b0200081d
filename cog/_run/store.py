"""Finding the image a command names: the project's build, a local layout, or a registry."""

from __future__ import annotations

import os
from pathlib import Path

from cog._run.image import Image, load_image, resolve_tag, tags
from cog.errors import RunError
from cog.progress import Progress

PROJECT_LAYOUT = Path(".cog") / "image"


def cache_root() -> Path:
    if os.environ.get("COG_CACHE_DIR"):
        return Path(os.environ["COG_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "cog"
    return Path.home() / ".cache" / "cog"


def pulled_layout() -> Path:
    """One OCI layout holding every image cog pulled, tagged by full reference."""
    return cache_root() / "images"


def build_current_project(project_dir: Path, config_file: str, progress: Progress) -> Image:
    from cog.building import build_project  # noqa: PLC0415 (the build stack loads on demand)

    result = build_project(
        project_dir,
        config_file=config_file,
        tag=None,
        separate_weights=False,
        no_cache=False,
        progress=progress,
    )
    return load_image(result.layout, result.manifest_digest)


def resolve_image(
    name: str | None, project_dir: Path, config_file: str, progress: Progress
) -> Image:
    """The image ``name`` refers to; without a name, the project built from its lock."""
    if name is None:
        return build_current_project(project_dir, config_file, progress)
    if name.startswith("oci:"):
        return _from_layout_reference(name[len("oci:") :])
    project_layout = project_dir / PROJECT_LAYOUT
    for layout in (project_layout, pulled_layout()):
        if (layout / "index.json").is_file() and name in tags(layout):
            return load_image(layout, tags(layout)[name])
    return _pull(name, progress)


def _from_layout_reference(spec: str) -> Image:
    path, _, tag = spec.partition(":")
    layout = Path(path)
    if not (layout / "index.json").is_file():
        raise RunError(f"{layout} is not an OCI image layout (no index.json)")
    return load_image(layout, resolve_tag(layout, tag or None))


def _pull(name: str, progress: Progress) -> Image:
    from cog.rules.registry import pull  # noqa: PLC0415 (network stack loads on demand)

    layout = pulled_layout()
    result = pull(name, layout, cache_dir=cache_root(), progress=progress)
    return load_image(layout, result.manifest_digest)
