"""The cog.yaml model: what a project asks for, validated and with defaults filled in.

Built by ``load_config`` (``cog.config._parse``), which reports every problem with the
file, line, key and a fix; the models themselves only hold the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from cog.config._requirements import read_requirements

DEFAULT_PYTHON_VERSION = "3.13"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SecretMount(_Frozen):
    """A build secret mounted at ``target`` while one ``build.run`` command runs."""

    id: str
    target: str


class RunCommand(_Frozen):
    """One ``build.run`` entry: a shell command, with optional secret mounts."""

    command: str
    mounts: tuple[SecretMount, ...] = ()


class WeightsSource(_Frozen):
    """A weights file or directory (relative to the project) that gets its own layer.

    ``target`` is where it lands in the image (default: the same relative path under the
    model's working directory).
    """

    path: str
    target: str | None = None


class BuildConfig(_Frozen):
    python_version: str = DEFAULT_PYTHON_VERSION
    python_packages: tuple[str, ...] = ()
    python_requirements: str | None = None
    system_packages: tuple[str, ...] = ()
    gpu: bool = False
    cuda: str | None = None
    run: tuple[RunCommand, ...] = ()
    base_image: str | None = None
    # Legacy keys still accepted so that old cog.yaml files load: cudnn is decided by the
    # CUDA wheels here, pre_install commands run before the Python packages.
    cudnn: str | None = None
    pre_install: tuple[str, ...] = ()
    sdk_version: str | None = None


class Config(_Frozen):
    path: Path
    project_dir: Path
    build: BuildConfig = BuildConfig()
    predict: str | None = None
    train: str | None = None
    image: str | None = None
    concurrency_max: int = 1
    environment: dict[str, str] = {}
    weights: tuple[WeightsSource, ...] = ()
    # Keys that loaded but change nothing here, one line each (printed once by load_config).
    notes: tuple[str, ...] = ()

    def requirements(self) -> tuple[str, ...]:
        """Requirement lines from python_packages, or from the python_requirements file.

        Option lines (--extra-index-url, --find-links, ...) are kept; comments, blank
        lines and line continuations are removed; ``-r`` includes are inlined.
        """
        if self.build.python_requirements is None:
            return self.build.python_packages
        return read_requirements(self.project_dir / self.build.python_requirements)

    def reference_json(self) -> dict[str, Any]:
        """cog.yaml as the reference writes it into the ``run.cog.config`` image label."""
        out: dict[str, Any] = {"build": _build_json(self.build)}
        for key, value in (("image", self.image), ("predict", self.predict), ("train", self.train)):
            if value is not None:
                out[key] = value
        if self.concurrency_max != 1:
            out["concurrency"] = {"max": self.concurrency_max}
        if self.environment:
            out["environment"] = [f"{name}={value}" for name, value in self.environment.items()]
        if self.weights:
            out["weights"] = [_weights_json(source) for source in self.weights]
        return out


def _build_json(build: BuildConfig) -> dict[str, Any]:
    out: dict[str, Any] = {"python_version": build.python_version}
    if build.gpu:
        out["gpu"] = True
    optional: dict[str, Any] = {
        "python_requirements": build.python_requirements,
        "python_packages": list(build.python_packages),
        "run": [_run_json(command) for command in build.run],
        "system_packages": list(build.system_packages),
        "pre_install": list(build.pre_install),
        "cuda": build.cuda,
        "cudnn": build.cudnn,
        "base_image": build.base_image,
        "sdk_version": build.sdk_version,
    }
    out.update({key: value for key, value in optional.items() if value})
    return out


def _run_json(command: RunCommand) -> dict[str, Any]:
    out: dict[str, Any] = {"command": command.command}
    if command.mounts:
        out["mounts"] = [
            {"type": "secret", "id": mount.id, "target": mount.target} for mount in command.mounts
        ]
    return out


def _weights_json(source: WeightsSource) -> dict[str, str]:
    out = {"source": source.path}
    if source.target is not None:
        out["target"] = source.target
    return out
