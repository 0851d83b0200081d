"""`cog lock`: pin every input of the image in cog.lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from cog.cli import _options
from cog.cli._options import ProjectFile
from cog.cli._progress_display import command_progress
from cog.config import load_config
from cog.errors import CogError
from cog.locking import check_lock, lock_path, lock_project


@dataclass(frozen=True)
class LockRequest:
    project: ProjectFile
    check: bool = False
    upgrade: bool | tuple[str, ...] = False  # True: everything; a tuple: those packages
    platform: str = "linux/amd64"
    progress: str = "auto"


@click.command("lock")
@_options.config_file
@click.option(
    "--check", is_flag=True, help="Fail if cog.lock is missing or stale instead of writing it."
)
@click.option(
    "--upgrade",
    is_flag=True,
    help="Resolve again to the newest allowed versions: all packages, or only the PKGs given.",
)
@click.option(
    "--platform",
    default="linux/amd64",
    show_default=True,
    help="The platform the image runs on, as os/arch.",
)
@_options.progress
@click.argument("packages", nargs=-1, metavar="[PKG]...")
def lock_command(
    *,
    config_file: str,
    check: bool,
    upgrade: bool,
    platform: str,
    progress: str,
    packages: tuple[str, ...],
) -> None:
    """Pin every input of the image in cog.lock.

    Resolves cog.yaml into cog.lock: Debian packages, wheels and weights files, each with
    its version, URL and sha256.

    With --upgrade PKG..., only those packages move to newer versions.
    """
    request = lock_request(
        config_file=config_file,
        check=check,
        upgrade=upgrade,
        platform=platform,
        progress=progress,
        packages=packages,
    )
    lock(request)


def lock_request(
    *,
    config_file: str,
    check: bool,
    upgrade: bool,
    platform: str,
    progress: str,
    packages: tuple[str, ...],
) -> LockRequest:
    if packages and not upgrade:
        raise CogError(
            f"package names given without --upgrade: {' '.join(packages)}",
            f"To upgrade only these, run: cog lock --upgrade {' '.join(packages)}",
        )
    if check and upgrade:
        raise CogError(
            "--check and --upgrade were both given",
            "--check verifies cog.lock without changing it; run one, then the other.",
        )
    if platform.count("/") != 1 or not all(platform.split("/")):
        raise CogError(
            f"--platform '{platform}' is not in the form os/arch",
            "For example: --platform linux/arm64",
        )
    return LockRequest(
        project=ProjectFile(Path(config_file)),
        check=check,
        upgrade=packages if packages else upgrade,
        platform=platform,
        progress=progress,
    )


def lock(request: LockRequest) -> None:
    project = request.project
    config = load_config(project.config_path)  # its errors name the file as the user gave it
    if request.check:
        check_lock(project.project_dir, project.config_file, config=config)
        click.echo(f"{lock_path(project.project_dir, project.config_file)} is up to date", err=True)
        return
    result = lock_project(
        project.project_dir,
        config_file=project.config_file,
        upgrade=request.upgrade,
        platform=request.platform,
        progress=command_progress(request.progress),
        config=config,
    )
    state = "written" if result.changed else "already up to date"
    click.echo(f"{result.path} {state}", err=True)
