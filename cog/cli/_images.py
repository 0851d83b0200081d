"""The image a run/serve/exec command works on: the named one, or the project's build."""

from __future__ import annotations

from dataclasses import dataclass

from cog._container.image import Image
from cog._container.store import resolve_image
from cog.cli._options import ProjectFile
from cog.cli._progress_display import command_progress
from cog.config import load_config
from cog.progress import Progress


@dataclass(frozen=True)
class ImageToRun:
    image: Image
    gpu: bool  # cog.yaml asks for GPUs (only known when the project was built here)
    progress: Progress


def image_to_run(name: str | None, project: ProjectFile, progress_mode: str) -> ImageToRun:
    # cog.yaml is checked first, with its errors naming the file as the user gave it.
    config = load_config(project.config_path) if name is None else None
    progress = command_progress(progress_mode)
    image = resolve_image(name, project.project_dir, project.config_file, progress, config=config)
    gpu = config.build.gpu if config is not None else False
    return ImageToRun(image=image, gpu=gpu, progress=progress)
