"""Running an image with podman or docker instead of runc, when the user picks them.

runc needs nothing but the unpacked image; podman and docker need the image in their own
store first: podman reads our OCI layout directly (``oci:`` transport), docker gets it
through skopeo's ``docker-daemon:`` transport. The container is then run the same way as
under runc: host network, the same environment, mounts and command.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cog._container.cdi import parse_gpus
from cog._container.image import Image, tags
from cog._container.runc import ContainerSpec
from cog.errors import RunError
from cog.rules.host_tools import require


def _binary(name: str) -> str:
    return require(name, RunError)


def _skopeo_for_docker() -> str:
    return require("skopeo", RunError)


def _tag_of(image: Image) -> str:
    # The oci: transport of podman and skopeo names an image in a layout by tag only.
    for tag, digest in sorted(tags(image.layout).items()):
        if digest == image.manifest_digest:
            return tag
    raise RunError(f"{image.manifest_digest} has no tag in {image.layout} to load it by")


def _gpu_args(engine: str, gpus: str) -> list[str]:
    """docker keeps --gpus (its toolkit hook); podman gets each GPU by its CDI name."""
    if engine == "docker":
        return ["--gpus", gpus]
    return [arg for name in parse_gpus(gpus).cdi_names() for arg in ("--device", name)]


# One path component of an image reference (distribution's reference grammar).
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


def _reference_safe(path: Path) -> bool:
    return all(_COMPONENT.fullmatch(part) for part in path.parts[1:])


@contextlib.contextmanager
def _reference_safe_directory() -> Iterator[Path]:
    """A fresh private directory whose path podman accepts as an image name.

    tempfile's names may end in "_" or hold "__" next to "_", which the grammar refuses,
    so the name is hex; the temporary root is used only when its own path is valid.
    """
    root = Path(tempfile.gettempdir())
    if not _reference_safe(root):
        root = Path("/tmp")  # noqa: S108 (mkdir of a random name fails rather than reuse)
    directory = root / f"cog-load-{secrets.token_hex(8)}"
    directory.mkdir(mode=0o700)
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class EngineContainer:
    """The Container interface (start, wait, signal, stop) on podman or docker."""

    def __init__(self, engine: str, image: Image, spec: ContainerSpec) -> None:
        self.engine = engine
        self._cli = _binary(engine)
        self.image = image
        self.spec = spec
        self.id = "cog-" + secrets.token_hex(6)
        self.process: subprocess.Popen[bytes] | None = None

    def _load(self) -> str:
        """The image's name in the engine's store, loading it there if needed."""
        name = f"localhost/cog-run:{self.image.manifest_digest.removeprefix('sha256:')[:32]}"
        # podman names an oci: image after its path, which must then be a valid image
        # name: a link from a path of lowercase hex stands in for .cog/image.
        with _reference_safe_directory() as scratch:
            link = scratch / "image"
            link.symlink_to(self.image.layout.resolve())
            source = f"oci:{link}:{_tag_of(self.image)}"
            if self.engine == "podman":
                command = [self._cli, "pull", "-q", source]
            else:
                command = [_skopeo_for_docker(), "copy", "-q", source, f"docker-daemon:{name}"]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RunError(f"{self.engine} could not load the image: {done.stderr.strip()}")
        if self.engine == "podman":
            return done.stdout.strip().splitlines()[-1]  # the image id
        return name

    def _run_args(self, image_name: str) -> list[str]:
        args = [self._cli, "run", "--rm", "--name", self.id, "--network", "host"]
        args += ["--workdir", self.spec.cwd]
        if self.spec.terminal:
            args += ["-i", "-t"]
        for name, value in self.spec.env.items():
            args += ["-e", f"{name}={value}"]
        for mount in self.spec.mounts:
            suffix = ":ro" if mount.read_only else ""
            args += ["-v", f"{mount.source}:{mount.destination}{suffix}"]
        if self.spec.gpus:
            args += _gpu_args(self.engine, self.spec.gpus)
        return [*args, "--entrypoint", self.spec.args[0], image_name, *self.spec.args[1:]]

    def start(
        self,
        *,
        stdin: IO[bytes] | int | None = subprocess.DEVNULL,
        stdout: IO[bytes] | int | None = None,
        stderr: IO[bytes] | int | None = None,
    ) -> subprocess.Popen[bytes]:
        command = self._run_args(self._load())
        self.process = subprocess.Popen(
            command,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=not self.spec.terminal,
        )
        return self.process

    def signal(self, signum: int) -> None:
        subprocess.run(
            [self._cli, "kill", "--signal", str(int(signum)), self.id],
            capture_output=True,
            check=False,
        )

    def wait(self, timeout: float | None = None) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            subprocess.run(
                [self._cli, "stop", "-t", str(int(grace)), self.id],
                capture_output=True,
                check=False,
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(grace + 5)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        subprocess.run([self._cli, "rm", "-f", self.id], capture_output=True, check=False)

    def __enter__(self) -> EngineContainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
