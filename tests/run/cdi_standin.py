"""A stand-in for what `nvidia-ctk cdi generate` writes, on a machine with no GPU.

Two "GPUs" are character devices made with mknod: nvidia0 a copy of /dev/null, nvidia1
a copy of /dev/zero, so a container tells them apart by reading one byte. nvidiactl is
a copy of /dev/null given with explicit type/major/minor (the other two leave them for the
runtime to look up). The "driver" is a library directory and one library file, mounted
read-only as the toolkit mounts the host's libcuda; a createContainer hook (the toolkit's
update-ldcache and create-symlinks are such hooks) writes into the container's root and
logs its run on the host.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

LIBRARY = "/usr/lib/x86_64-linux-gnu/libcuda.so.1"
DRIVER_DIR = "/usr/lib/cog-standin-driver"
HOOK_MARK = "/etc/cdi-hook-ran"

HOOK = """\
#!{python}
# A createContainer hook: the container's state on stdin, run before pivot_root.
import json, pathlib, sys
state = json.load(sys.stdin)
config = json.loads((pathlib.Path(state["bundle"]) / "config.json").read_text())
root = pathlib.Path(state["bundle"], config["root"]["path"])
(root / "{mark}".lstrip("/")).write_text(" ".join(sys.argv[1:]))
with open("{log}", "a") as log:
    log.write(state["id"] + "\\n")
"""


@dataclass(frozen=True)
class StandIn:
    spec_dir: Path
    hook_log: Path

    def hook_runs(self) -> list[str]:
        if not self.hook_log.exists():
            return []
        return self.hook_log.read_text().split()


def _node(path: Path, like: str) -> Path:
    rdev = os.stat(like).st_rdev
    os.mknod(path, 0o666 | stat.S_IFCHR, rdev)
    return path


def spec_document(root: Path) -> dict[str, Any]:
    dev = root / "dev"
    dev.mkdir()
    nodes = {
        n: _node(dev / n, like) for n, like in (("nvidia0", "/dev/null"), ("nvidia1", "/dev/zero"))
    }
    _node(dev / "nvidiactl", "/dev/null")
    driver = root / "driver"
    driver.mkdir()
    (driver / "libcuda.so.1").write_text("stand-in libcuda\n")
    (driver / "lib").mkdir()
    (driver / "lib" / "libnvidia-ml.so.1").write_text("stand-in libnvidia-ml\n")
    hook = root / "hook.py"
    hook.write_text(HOOK.format(python=sys.executable, mark=HOOK_MARK, log=root / "hook.log"))
    hook.chmod(0o755)
    null = os.stat("/dev/null").st_rdev

    def gpu(index: int) -> dict[str, Any]:
        return {
            "deviceNodes": [
                {"path": f"/dev/nvidia{index}", "hostPath": str(nodes[f"nvidia{index}"])}
            ],
            "env": [f"COG_STANDIN_GPU={index}"],
        }

    both = [n for i in (0, 1) for n in gpu(i)["deviceNodes"]]
    return {
        "cdiVersion": "0.5.0",
        "kind": "nvidia.com/gpu",
        "devices": [
            {"name": "0", "containerEdits": gpu(0)},
            {"name": "1", "containerEdits": gpu(1)},
            {
                "name": "all",
                "containerEdits": {"deviceNodes": both, "env": ["COG_STANDIN_GPU=all"]},
            },
        ],
        "containerEdits": {
            "env": ["NVIDIA_VISIBLE_DEVICES=void", "COG_STANDIN_SPEC=yes"],
            "deviceNodes": [
                {
                    "path": "/dev/nvidiactl",
                    "hostPath": str(dev / "nvidiactl"),
                    "type": "c",
                    "major": os.major(null),
                    "minor": os.minor(null),
                    "permissions": "rw",
                }
            ],
            "mounts": [
                {
                    "hostPath": str(driver / "libcuda.so.1"),
                    "containerPath": LIBRARY,
                    "options": ["ro", "nosuid", "nodev", "bind"],
                },
                {
                    "hostPath": str(driver / "lib"),
                    "containerPath": DRIVER_DIR,
                    "options": ["ro", "nosuid", "nodev", "rbind"],
                },
            ],
            "hooks": [
                {
                    "hookName": "createContainer",
                    "path": str(hook),
                    "args": ["hook.py", "update-ldcache", "--folder", DRIVER_DIR],
                    "env": ["COG_STANDIN_HOOK=1"],
                }
            ],
        },
    }


def write_standin(root: Path, form: str) -> StandIn:
    """The stand-in devices and a spec for them in ``root``, as JSON or YAML."""
    root.mkdir(parents=True, exist_ok=True)
    document = spec_document(root)
    spec_dir = root / "cdi"
    spec_dir.mkdir()
    if form == "json":
        (spec_dir / "nvidia.json").write_text(json.dumps(document, indent=2))
    else:
        (spec_dir / "nvidia.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return StandIn(spec_dir, root / "hook.log")


# What the container reports: run with the project mounted at /src (cog exec).
PROBE = f"""\
import json, os, pathlib
dev = sorted(p.name for p in pathlib.Path("/dev").glob("nvidia*"))
def node(name):
    info = os.stat("/dev/" + name)
    with open("/dev/" + name, "rb") as f:
        return [os.major(info.st_rdev), os.minor(info.st_rdev), f.read(1).hex()]
def text(path):
    p = pathlib.Path(path)
    return p.read_text() if p.exists() else None
print(json.dumps({{
    "devices": {{n: node(n) for n in dev}},
    "env": {{k: v for k, v in os.environ.items() if k.startswith(("COG_STANDIN", "NVIDIA_"))}},
    "library": text("{LIBRARY}"),
    "driver_dir": sorted(os.listdir("{DRIVER_DIR}")) if os.path.isdir("{DRIVER_DIR}") else None,
    "hook": text("{HOOK_MARK}"),
}}))
"""
