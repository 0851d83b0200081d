"""The layer plan is a pure function of its inputs: each change reaches only its layers."""

from __future__ import annotations

import dataclasses

import pytest

from cog.errors import BuildError
from cog.rules.image_config import MAX_LAYERS
from cog.rules.lockfile import DebPackage, Lock, Target, WeightsFile, Wheel
from cog.rules.plan import (
    BIG_WHEEL,
    CodeFile,
    CogPackage,
    PlacedWeights,
    Plan,
    PlanInputs,
    plan_layers,
)
from cog.rules.sandbox import RunStep

pytestmark = pytest.mark.unit


def _sha(n: int) -> str:
    return f"{n:064x}"


def _deb(name: str, n: int) -> DebPackage:
    return DebPackage(
        name=name,
        version="1",
        architecture="amd64",
        suite="bookworm",
        filename=f"pool/{name}.deb",
        sha256=_sha(n),
        size=10,
    )


def _wheel(name: str, n: int, size: int = 10) -> Wheel:
    return Wheel(
        name=name, version="1", filename=f"{name}-1-py3-none-any.whl", sha256=_sha(n), size=size
    )


LOCK = Lock(
    inputs_sha256=_sha(0),
    target=Target(python_version="3.11", debian_suite="bookworm"),
    debian=(_deb("libc6", 1), _deb("python3.11-minimal", 2)),
    python=(_wheel("numpy", 3), _wheel("torch", 4, size=BIG_WHEEL + 1)),
    runtime=(_wheel("trio", 5),),
    weights=(WeightsFile(path="weights/a.bin", sha256=_sha(6), size=1),),
)
INPUTS = PlanInputs(
    lock=LOCK,
    compiler_id="rootfs:abc",
    cog=CogPackage("1.0", _sha(7)),
    runtime_site="/usr/local/lib/cog-runtime",
    code=(CodeFile("run.py", False, _sha(8), False), CodeFile("link", True, "run.py", False)),
    weights=(PlacedWeights("weights/a.bin", "src/weights/a.bin", _sha(6)),),
    run_steps=(RunStep("echo hi"),),
)


def _keys(plan: Plan) -> dict[str, str]:
    return {f"{p.kind}:{p.description}": p.key for p in plan.layers}


def _changed(before: PlanInputs, after: PlanInputs) -> list[str]:
    old, new = _keys(plan_layers(before)), _keys(plan_layers(after))
    assert old.keys() == new.keys()
    return [name for name in old if old[name] != new[name]]


def test_the_layers_come_bottom_first() -> None:
    kinds = [p.kind for p in plan_layers(INPUTS).layers]
    assert kinds == ["os", "wheels", "wheels", "wheels", "cog", "run", "weights", "code"]
    plan = plan_layers(INPUTS)
    assert plan.bottom == 1
    assert plan.rootfs_key == plan.layers[0].key


def test_the_plan_is_deterministic() -> None:
    assert plan_layers(INPUTS) == plan_layers(dataclasses.replace(INPUTS))
    keys = [p.key for p in plan_layers(INPUTS).layers]
    assert len(set(keys)) == len(keys)


def test_a_code_change_alters_only_the_code_layer() -> None:
    edited = (CodeFile("run.py", False, _sha(9), False), INPUTS.code[1])
    assert _changed(INPUTS, dataclasses.replace(INPUTS, code=edited)) == ["code:code (2 files)"]
    chmod = (CodeFile("run.py", False, _sha(8), True), INPUTS.code[1])
    assert _changed(INPUTS, dataclasses.replace(INPUTS, code=chmod)) == ["code:code (2 files)"]


def test_a_requirements_change_alters_the_python_layer_not_the_debian_one() -> None:
    lock = LOCK.model_copy(update={"python": (_wheel("numpy", 10), LOCK.python[1])})
    changed = _changed(INPUTS, dataclasses.replace(INPUTS, lock=lock))
    # build.run layers see everything below them, so they follow any change beneath.
    assert changed == ["wheels:python packages (1)", "run:RUN echo hi"]


def test_a_deb_change_alters_the_os_layer() -> None:
    lock = LOCK.model_copy(update={"debian": (_deb("libc6", 11), LOCK.debian[1])})
    changed = _changed(INPUTS, dataclasses.replace(INPUTS, lock=lock))
    assert changed == ["os:debian packages (2) with python3.11", "run:RUN echo hi"]


def test_a_cog_change_alters_its_layer_and_the_run_steps_above() -> None:
    cog = CogPackage("1.0", _sha(12))
    changed = _changed(INPUTS, dataclasses.replace(INPUTS, cog=cog))
    assert changed == ["cog:cog 1.0", "run:RUN echo hi"]


def test_the_compiler_reaches_every_layer_with_pyc() -> None:
    changed = _changed(INPUTS, dataclasses.replace(INPUTS, compiler_id="host:3.11"))
    assert "weights:weights weights/a.bin" not in changed
    assert "code:code (2 files)" not in changed
    assert "os:debian packages (2) with python3.11" in changed
    assert "wheels:wheel torch-1-py3-none-any.whl" in changed


def test_mtime_reaches_every_built_layer() -> None:
    assert (
        len(_changed(INPUTS, dataclasses.replace(INPUTS, mtime=1))) == len(INPUTS.lock.python) + 6
    )


def test_a_changed_weights_file_is_refused() -> None:
    placed = (PlacedWeights("weights/a.bin", "src/weights/a.bin", _sha(13)),)
    with pytest.raises(BuildError, match="changed since cog"):
        plan_layers(dataclasses.replace(INPUTS, weights=placed))


def test_too_many_layers_are_refused() -> None:
    steps = tuple(RunStep(f"echo {i}") for i in range(MAX_LAYERS))
    with pytest.raises(BuildError, match="layers"):
        plan_layers(dataclasses.replace(INPUTS, run_steps=steps))
