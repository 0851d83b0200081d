"""runc with CDI: for container runtimes that do not read CDI specs (containerd before 1.7).

containerd's runc shim runs the runc binary it is given (``ctr run --runc-binary``, or a
runtime's ``BinaryName`` in containerd's config) with runc's own arguments. On ``create``
and ``run`` this program applies the CDI devices the container asks for to the bundle's
config.json, then runs runc as asked; every other command goes to runc unchanged. It is
what the NVIDIA toolkit's nvidia-container-runtime does, with cog's CDI implementation.

A container asks for devices as the CDI convention says, with annotations
``cdi.k8s.io/<any name>=vendor.com/class=name[,…]``, or as the toolkit's images do, with
``NVIDIA_VISIBLE_DEVICES`` (``all``, ``0,1``; ``void``, ``none`` or empty: none). Run it as
``python -m cog._container.cdi_runc``; ``COG_CDI_RUNC`` names the runc to run (default: runc).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from cog._container.cdi import Device, resolve_gpus, resolve_names
from cog._container.cdi_edits import apply_devices
from cog.errors import RunError

ANNOTATION_PREFIX = "cdi.k8s.io/"
_GLOBAL_WITH_VALUE = ("--root", "--log", "--log-format", "--criu", "--rootless")


def _command_and_bundle(args: list[str]) -> tuple[str | None, Path]:
    command: str | None = None
    bundle = Path.cwd()
    skip = False
    for at, arg in enumerate(args):
        if skip:
            skip = False
        elif command is None and arg in _GLOBAL_WITH_VALUE:
            skip = True
        elif command is None and not arg.startswith("-"):
            command = arg
        elif command is not None and arg in ("--bundle", "-b") and at + 1 < len(args):
            bundle = Path(args[at + 1])
        elif command is not None and arg.startswith("--bundle="):
            bundle = Path(arg.partition("=")[2])
    return command, bundle


def requested_devices(config: dict[str, Any]) -> list[Device]:
    annotations = config.get("annotations") or {}
    names = [
        name.strip()
        for key, value in sorted(annotations.items())
        if key.startswith(ANNOTATION_PREFIX)
        for name in str(value).split(",")
        if name.strip()
    ]
    if names:
        return resolve_names(names)
    env = dict(e.split("=", 1) for e in config.get("process", {}).get("env", []) if "=" in e)
    visible = env.get("NVIDIA_VISIBLE_DEVICES", "").strip()
    if visible in ("", "void", "none"):
        return []
    return resolve_gpus("all" if visible == "all" else f'"device={visible}"')


def inject(bundle: Path) -> None:
    path = bundle / "config.json"
    config = json.loads(path.read_text())
    devices = requested_devices(config)
    if devices:
        apply_devices(config, devices)
        path.write_text(json.dumps(config))


def main(args: list[str] | None = None) -> NoReturn:
    args = sys.argv[1:] if args is None else args
    command, bundle = _command_and_bundle(args)
    if command in ("create", "run"):
        try:
            inject(bundle)
        except RunError as exc:
            print(f"cog CDI: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc
    runc = os.environ.get("COG_CDI_RUNC", "runc")
    os.execvp(runc, [runc, *args])  # noqa: S606 (runc itself, with the caller's arguments)


if __name__ == "__main__":
    main()
