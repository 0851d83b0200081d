"""What a cog.lock is made from: the checksum of its inputs (cog.yaml, the requirements,
the weights file list, the pinned third_party data, the lock format) that tells a current
lock from a stale one, and the weights files it pins by content.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cog.rules.python_standalone as standalone
from cog.config import Config
from cog.errors import LockError
from cog.progress import Progress
from cog.rules.debian import targets as debian_targets
from cog.rules.lockfile import LOCK_VERSION, WeightsFile
from cog.rules.pylock import runtime_wheels as runtime_set
from cog.rules.sandbox import STEP_DEBS, STEP_WHEELS


def weights_files(config: Config) -> list[Path]:
    files: list[Path] = []
    for source in config.weights:
        root = config.project_dir / source.path
        if root.is_file():
            files.append(root)
        elif root.is_dir():
            files += sorted(p for p in root.rglob("*") if p.is_file())
        else:
            raise LockError(
                f"{config.path}: weights path {source.path!r} does not exist",
                hint="Create it, or fix the weights entry in cog.yaml.",
            )
    return files


def _relative(config: Config, path: Path) -> str:
    return path.relative_to(config.project_dir).as_posix()


class _Checksum:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.feed("lock-format", str(LOCK_VERSION).encode())
        self.feed("third_party/debian.toml", debian_targets.data_bytes())
        self.feed("third_party/runtime.toml", runtime_set.data_bytes())
        self.feed("third_party/python_standalone.toml", standalone.table_bytes())

    def feed(self, label: str, data: bytes) -> None:
        self.digest.update(f"{label}\0{len(data)}\0".encode())
        self.digest.update(data)


def base_inputs_checksum(python_version: str, platform: str) -> str:
    """The inputs of this repository's own cog.lock: third_party's pins and the target."""
    checksum = _Checksum()
    checksum.feed("target", f"{python_version}\0{platform}".encode())
    return checksum.digest.hexdigest()


def inputs_checksum(project_dir: Path, config: Config) -> str:
    checksum = _Checksum()
    feed = checksum.feed
    feed("cog.yaml", config.path.read_bytes())
    if config.build.python_requirements is not None:
        requirements_file = project_dir / config.build.python_requirements
        if requirements_file.is_file():
            feed("requirements-file", requirements_file.read_bytes())
        # The logical lines cover files pulled in with -r as well.
        feed("requirements", "\n".join(config.requirements()).encode())
    if config.build.run:
        feed("build-run-tools", "\0".join([*STEP_DEBS, *STEP_WHEELS]).encode())
    for path in weights_files(config):
        feed("weights", f"{_relative(config, path)}\0{path.stat().st_size}".encode())
    return checksum.digest.hexdigest()


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def hashed_weights(config: Config, progress: Progress) -> tuple[WeightsFile, ...]:
    files = weights_files(config)
    if not files:
        return ()
    task = progress.task("Hashing weights", total=sum(p.stat().st_size for p in files))
    result = []
    for path in files:
        size = path.stat().st_size
        result.append(WeightsFile(path=_relative(config, path), sha256=_hash_file(path), size=size))
        task.advance(size)
    task.finish(f"Hashed {len(files)} weights files")
    return tuple(sorted(result, key=lambda w: w.path))
