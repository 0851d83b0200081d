"""`cog doctor`: what stands between this project and a running image, and how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from cog._diagnosis.finding import Finding
from cog._diagnosis.model_code import code_findings
from cog.config import Config, load_config
from cog.errors import CogError
from cog.progress import NullProgress
from cog.rules._files import default_cache_root as cache_root
from cog.rules.host_tools import TOOLS, find_uv, version, which

__all__ = ["Finding", "diagnose", "gpu_findings"]


def diagnose(config_path: Path, env: Mapping[str, str] | None = None) -> Iterator[Finding]:
    """Every check, in order; ``config_path`` as the user named it (errors repeat it).

    Lazy: a check runs when its findings are asked for, so one after a fix (cog.lock's,
    after predict.py moved to run.py) sees the fixed project.
    """
    env = os.environ if env is None else env
    project_dir, config_file = config_path.absolute().parent, config_path.name
    try:
        config = load_config(config_path)
    except CogError as exc:
        yield Finding("cog.yaml", False, exc.message, exc.hint)
    else:
        yield Finding("cog.yaml", True, f"{config_file} is valid")
        yield from code_findings(project_dir, config)
        yield from _python_findings(config)
        yield from _lock_findings(project_dir, config_file)
        yield from _credential_findings(config, env)
    yield from _uv_findings(env)
    apt = _Apt()  # one `apt-get update` for all the tools --fix installs
    if not env.get("COG_SKIP_DOCKER_CHECK"):
        yield from _runtime_findings(apt)
    yield from _tool_findings(("bwrap", "gpgv", "zstd"), apt)
    yield from _tool_findings(("podman", "docker"), apt, optional=True)
    yield from gpu_findings()
    yield _cache_finding()


def _lock_findings(project_dir: Path, config_file: str) -> Iterator[Finding]:
    """A missing cog.lock is a warning (the reference has none; `cog build` makes one from
    `cog lock`); one older than cog.yaml or its files is a problem."""
    from cog.locking import check_lock, lock_path, lock_project  # noqa: PLC0415 (on demand)

    def relock() -> str:
        result = lock_project(project_dir, config_file=config_file, progress=NullProgress())
        return f"wrote {result.path}"

    try:
        check_lock(project_dir, config_file)
    except CogError as exc:
        missing = not lock_path(project_dir, config_file).exists()
        yield Finding("cog.lock", False, exc.message, exc.hint, fix=relock, warning=missing)
    else:
        yield Finding("cog.lock", True, "cog.lock matches cog.yaml and its files")


def _python_findings(config: Config) -> Iterator[Finding]:
    """`cog serve --local` runs the model with this Python; an image, with cog.yaml's."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = ".".join(config.build.python_version.split(".")[:2])
    if wanted != here:
        yield Finding(
            "env-python-version",
            False,
            f"local Python is {here} but {config.path.name} specifies {wanted}",
            "This is usually fine: images use the configured version; only "
            "`cog serve --local` runs with this one.",
            warning=True,
        )


def _credential_findings(config: Config, env: Mapping[str, str]) -> Iterator[Finding]:
    from cog.rules.registry.auth import credentials_for  # noqa: PLC0415
    from cog.rules.registry.reference import model_reference  # noqa: PLC0415

    if config.image is None and not env.get("COG_MODEL"):
        return
    try:
        reference = model_reference(config.image, env=env)
    except CogError as exc:
        yield Finding("registry", False, exc.message, exc.hint)
        return
    credentials = credentials_for(reference.registry, env=env)
    if credentials is None:
        yield Finding(
            "registry",
            True,
            f"no stored login for {reference.registry}: pushes will be anonymous",
            f"If the registry needs one: cog login {reference.registry}",
        )
    else:
        yield Finding("registry", True, f"a login for {reference.registry} is stored")


def _uv_findings(env: Mapping[str, str]) -> Iterator[Finding]:
    try:
        uv = find_uv(env)
    except CogError as exc:
        yield Finding("uv", False, exc.message, exc.hint)
        return
    found = version(uv.path)
    if found is None:
        yield Finding("uv", False, f"{uv.path} ({uv.source}) does not run", "Reinstall cog.")
    else:
        yield Finding("uv", True, f"{found} at {uv.path} ({uv.source})")


def _tool_findings(
    names: tuple[str, ...], apt: _Apt, *, optional: bool = False
) -> Iterator[Finding]:
    for name in names:
        tool = TOOLS[name]
        path = which(name)
        if path is None and optional:
            yield Finding(name, True, f"not installed (only {tool.needed_for} needs it)")
        elif path is None:
            yield Finding(
                name,
                False,
                f"{name} is not installed: {tool.needed_for} needs it",
                tool.install_hint(),
                fix=apt.installer(tool.package) if os.geteuid() == 0 else None,
            )
        elif (found := version(path)) is None:
            yield Finding(name, False, f"{path} --version failed", tool.install_hint())
        else:
            yield Finding(name, True, f"{found} at {path}")


class _Apt:
    """apt-get for the fixes of one `cog doctor` run: the package lists are updated once,
    before the first install, however many tools are missing."""

    def __init__(self) -> None:
        self._updated = False

    def _run(self, argv: list[str]) -> None:
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise CogError(f"`{' '.join(argv)}` failed:\n{tail}")

    def installer(self, package: str) -> Callable[[], str]:
        def install() -> str:
            if not self._updated:
                self._run(["apt-get", "update", "-qq"])
                self._updated = True
            self._run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", package])
            return f"installed {package} with apt-get"

        return install


def _runtime_findings(apt: _Apt) -> Iterator[Finding]:
    yield from _tool_findings(("runc",), apt)
    if which("runc") is not None and os.geteuid() != 0:
        yield Finding(
            "runc",
            False,
            "cog runs containers with runc as root; this user is not root",
            "Run cog as root (for example with sudo).",
        )


def _cache_finding() -> Finding:
    root = cache_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root):
            pass
    except OSError as exc:
        return Finding(
            "cache",
            False,
            f"the cache directory {root} is not writable: {exc.strerror}",
            "Set COG_CACHE_DIR to a writable directory.",
        )
    return Finding("cache", True, f"cache at {root}")


def gpu_findings() -> Iterator[Finding]:
    """The NVIDIA GPUs this machine has, and the CDI devices `--gpus` can give containers."""
    from cog._container import cdi  # noqa: PLC0415 (only this check needs it)

    gpus = sorted(p.name for p in Path("/dev").glob("nvidia[0-9]*"))
    registry = cdi.load_registry()
    if gpus:
        yield Finding("GPUs", True, f"{len(gpus)} NVIDIA GPU(s): /dev/" + ", /dev/".join(gpus))
    else:
        yield Finding("GPUs", True, "no NVIDIA GPU on this machine (no /dev/nvidia0)")
    for error in registry.errors:
        yield Finding("CDI", False, error, f"Fix or remove that file. {cdi.CREATE_SPEC_HINT}.")
    kinds = sorted({d.spec.kind for d in registry.devices.values()})
    for kind in kinds:
        devices = registry.of_kind(kind)
        specs = ", ".join(sorted({str(d.spec.path) for d in devices.values()}))
        yield Finding("CDI", True, f"{kind}: {', '.join(sorted(devices))} ({specs})")
        gone = [path for device in devices.values() for path in cdi.host_paths(device)]
        gone = sorted({path for path in gone if not os.path.exists(path)})
        if gone:
            yield Finding(
                "CDI",
                False,
                f"{kind}'s spec names {gone[0]}"
                + (f" and {len(gone) - 1} more paths" if len(gone) > 1 else "")
                + " that this machine does not have (the driver changed?)",
                f"Regenerate it: {cdi.CREATE_SPEC_HINT}.",
                fix=_generate_gpu_spec(),
            )
    if gpus and cdi.GPU_KIND not in kinds:
        yield Finding(
            "CDI",
            False,
            f"no CDI spec describes {cdi.GPU_KIND} (looked in {registry.searched()}): "
            "--gpus under runc needs one",
            f"{cdi.CREATE_SPEC_HINT}.",
            fix=_generate_gpu_spec(),
        )


def _generate_gpu_spec() -> Callable[[], str] | None:
    ctk = which("nvidia-ctk")
    if ctk is None or os.geteuid() != 0:
        return None

    def generate() -> str:
        argv = [ctk, "cdi", "generate", "--output=/etc/cdi/nvidia.yaml"]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise CogError(f"`{' '.join(argv)}` failed:\n{tail}")
        return "wrote /etc/cdi/nvidia.yaml with nvidia-ctk"

    return generate
