"""CDI without a container: --gpus parsing, spec discovery, merge semantics, engine argv, doctor."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from cog._container.cdi import GpuRequest, load_registry, parse_gpus, resolve_gpus, spec_dirs
from cog._container.cdi_edits import apply_devices
from cog._container.cdi_runc import _command_and_bundle, requested_devices
from cog._container.engines import _gpu_args
from cog._diagnosis.diagnose import gpu_findings
from cog.errors import RunError
from tests.run.cdi_standin import write_standin

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "count", "names"),
    [
        ("all", None, ()),
        ("count=all", None, ()),
        ("2", 2, ()),
        ("count=3", 3, ()),
        ("device=1", None, ("1",)),
        ('"device=1,2"', None, ("1", "2")),
        ("device=0,GPU-3f2a", None, ("0", "GPU-3f2a")),  # unquoted: docker's CSV splits it
        ('"device=0,1",capabilities=compute', None, ("0", "1")),
    ],
)
def test_gpus_is_read_as_docker_reads_it(text: str, count: int | None, names: tuple[str]) -> None:
    request = parse_gpus(text)
    assert (request.count, request.names) == (count, names)


@pytest.mark.parametrize("text", ["0", "bogus", "device=", "count=x"])
def test_gpus_that_asks_for_nothing_or_nonsense_is_refused(text: str) -> None:
    with pytest.raises(RunError, match="--gpus"):
        parse_gpus(text)


def test_podman_gets_cdi_names_and_docker_keeps_gpus() -> None:
    assert _gpu_args("podman", "all") == ["--device", "nvidia.com/gpu=all"]
    assert _gpu_args("podman", "2") == [
        "--device",
        "nvidia.com/gpu=0",
        "--device",
        "nvidia.com/gpu=1",
    ]
    assert _gpu_args("podman", '"device=1,3"') == [
        "--device",
        "nvidia.com/gpu=1",
        "--device",
        "nvidia.com/gpu=3",
    ]
    assert _gpu_args("docker", '"device=1,3"') == ["--gpus", '"device=1,3"']
    assert GpuRequest("x", 1).cdi_names() == ["nvidia.com/gpu=0"]


def test_spec_dirs_default_and_from_the_environment() -> None:
    assert spec_dirs({}) == (Path("/etc/cdi"), Path("/var/run/cdi"))
    assert spec_dirs({"CDI_SPEC_DIRS": "/a:/b"}) == (Path("/a"), Path("/b"))


def _spec(kind: str, devices: list[dict[str, Any]], **edits: Any) -> dict[str, Any]:
    return {"cdiVersion": "0.6.0", "kind": kind, "devices": devices, "containerEdits": edits}


def test_a_later_directory_shadows_an_earlier_one_and_json_and_yaml_both_read(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "etc", tmp_path / "run"
    first.mkdir()
    second.mkdir()
    dev = {"name": "0", "containerEdits": {"env": ["FROM=etc"]}}
    (first / "a.json").write_text(json.dumps(_spec("nvidia.com/gpu", [dev])))
    later = {"name": "0", "containerEdits": {"env": ["FROM=run"]}}
    (second / "b.yaml").write_text(yaml.safe_dump(_spec("nvidia.com/gpu", [later])))
    (second / "notes.txt").write_text("not a spec")
    (second / "broken.yaml").write_text("kind: [")

    registry = load_registry((first, second))
    assert registry.devices["nvidia.com/gpu=0"].edits["env"] == ["FROM=run"]
    assert len(registry.errors) == 1
    assert "broken.yaml" in registry.errors[0]


def test_two_specs_of_one_directory_defining_a_device_is_an_error(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text(json.dumps(_spec("nvidia.com/gpu", [{"name": "0"}])))
    registry = load_registry((tmp_path,))
    assert registry.devices == {}
    assert "defined in both" in registry.errors[0]
    with pytest.raises(RunError, match="defined in both"):
        resolve_gpus("all", registry)


def test_an_unknown_hook_name_makes_the_spec_invalid(tmp_path: Path) -> None:
    hook = {"hookName": "beforeEverything", "path": "/bin/true"}
    spec = _spec("nvidia.com/gpu", [{"name": "0"}], hooks=[hook])
    (tmp_path / "a.json").write_text(json.dumps(spec))
    assert "beforeEverything" in load_registry((tmp_path,)).errors[0]


def _config() -> dict[str, Any]:
    return {
        "process": {"env": ["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=all"], "user": {"uid": 0}},
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/usr/lib/x", "type": "bind", "source": "/old"},
        ],
        "linux": {"devices": [], "resources": {"devices": [{"allow": False, "access": "rwm"}]}},
    }


def test_edits_merge_as_the_specification_says(tmp_path: Path) -> None:
    null = os.stat("/dev/null").st_rdev
    spec = _spec(
        "nvidia.com/gpu",
        [
            {
                "name": "0",
                "containerEdits": {
                    "deviceNodes": [{"path": "/dev/gpu0", "hostPath": "/dev/null"}],
                    "env": ["NVIDIA_VISIBLE_DEVICES=void"],
                    "additionalGids": [0, 44, 44],
                },
            },
            {"name": "1", "containerEdits": {"deviceNodes": [{"path": "/dev/null"}]}},
        ],
        env=["SPEC=1"],
        mounts=[
            {"hostPath": "/new", "containerPath": "/usr/lib/x", "options": ["ro", "bind"]},
            {"hostPath": "/h", "containerPath": "/a", "options": ["bind"]},
        ],
        hooks=[
            {"hookName": "createContainer", "path": "/bin/hook", "args": ["hook", "x"]},
            {"hookName": "poststop", "path": "/bin/after", "timeout": 5},
        ],
    )
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(spec))
    config = _config()
    apply_devices(config, resolve_gpus("2", load_registry((tmp_path,))))

    assert config["process"]["env"] == ["PATH=/usr/bin", "NVIDIA_VISIBLE_DEVICES=void", "SPEC=1"]
    assert config["process"]["user"]["additionalGids"] == [44]
    major, minor = os.major(null), os.minor(null)
    assert config["linux"]["devices"] == [
        {"path": "/dev/gpu0", "type": "c", "major": major, "minor": minor},
        {"path": "/dev/null", "type": "c", "major": major, "minor": minor},
    ]
    rules = config["linux"]["resources"]["devices"]
    assert (
        rules[1:]
        == [{"allow": True, "type": "c", "access": "rwm", "major": major, "minor": minor}] * 2
    )
    # A mount at the same destination is replaced; parents sort before children, stably.
    assert [(m["destination"], m["source"]) for m in config["mounts"]] == [
        ("/proc", "proc"),
        ("/a", "/h"),
        ("/usr/lib/x", "/new"),
    ]
    assert config["hooks"] == {
        "createContainer": [{"path": "/bin/hook", "args": ["hook", "x"]}],
        "poststop": [{"path": "/bin/after", "timeout": 5}],
    }


def test_a_device_node_missing_on_the_host_is_named(tmp_path: Path) -> None:
    spec = _spec("nvidia.com/gpu", [{"name": "0"}], deviceNodes=[{"path": "/dev/nvidia-gone"}])
    (tmp_path / "s.json").write_text(json.dumps(spec))
    with pytest.raises(RunError, match="/dev/nvidia-gone"):
        apply_devices(_config(), resolve_gpus("all", load_registry((tmp_path,))))


def test_a_count_beyond_the_devices_is_refused(tmp_path: Path) -> None:
    standin = write_standin(tmp_path, "json")
    with pytest.raises(RunError, match="describe 2 nvidia"):
        resolve_gpus("3", load_registry((standin.spec_dir,)))


def test_cdi_runc_finds_the_bundle_and_the_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--root", "/run/x", "--log", "l.json", "create", "--bundle", "/b", "id"]
    assert _command_and_bundle(args) == ("create", Path("/b"))
    assert _command_and_bundle(["--root", "/r", "delete", "id"]) == ("delete", Path.cwd())
    standin = write_standin(tmp_path, "yaml")
    monkeypatch.setenv("CDI_SPEC_DIRS", str(standin.spec_dir))
    env = {"process": {"env": ["NVIDIA_VISIBLE_DEVICES=0,1"]}}
    assert [d.name for d in requested_devices(env)] == ["0", "1"]
    void = {"process": {"env": ["NVIDIA_VISIBLE_DEVICES=void"]}}
    assert requested_devices(void) == []
    annotated = {"annotations": {"cdi.k8s.io/x": "nvidia.com/gpu=all"}}
    assert [d.qualified for d in requested_devices(annotated)] == ["nvidia.com/gpu=all"]


def test_doctor_reports_cdi_devices_and_a_stale_spec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin = write_standin(tmp_path, "yaml")
    monkeypatch.setenv("CDI_SPEC_DIRS", str(standin.spec_dir))
    found = [f for f in gpu_findings() if f.check == "CDI"]
    assert [(f.ok, f.message) for f in found] == [
        (True, f"nvidia.com/gpu: 0, 1, all ({standin.spec_dir / 'nvidia.yaml'})")
    ]
    (tmp_path / "driver" / "libcuda.so.1").unlink()  # as after a driver upgrade
    stale = [f for f in gpu_findings() if f.check == "CDI" and not f.ok]
    assert "driver" in stale[0].message
    assert stale[0].hint is not None
    assert "nvidia-ctk cdi generate" in stale[0].hint
