"""torch as the reference picks it: the CPU build with gpu: false, the build for the
pinned CUDA with gpu: true, from COG_TORCH_INDEX_URL's indexes when the user's own
configuration offers none; a local index on 127.0.0.1 serves small stand-in wheels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.errors import LockError
from cog.locking import lock_project
from cog.progress import NullProgress
from cog.rules.pylock.index_config import IndexConfig
from cog.rules.pylock.lockset import _Compiler, _joint
from cog.rules.pylock.resolve import Resolved, Target
from tests.build._archives import make_wheel
from tests.build._runc import free_port
from tests.support.local_index import LocalIndex, serving_index

TARGET = Target("3.11", "x86_64-manylinux_2_36")
SETTING = "COG_TORCH_INDEX_URL"


def _torch(folder: Path, version: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    name = f"torch-{version}-py3-none-any.whl"
    files = {"torch/__init__.py": f"V = {version!r}\n".encode()}
    make_wheel(folder / name, "torch", version, files)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    root = tmp_path_factory.mktemp("torch-index")
    # 2.14.0: above the CPU build this machine's find-links folder offers, within its pip
    # constraints; the stand-ins have no dependencies.
    _torch(root / "pypi", "2.14.0")  # what PyPI has: the CUDA build, no local version
    _torch(root / "whl" / "cpu", "2.14.0+cpu")
    _torch(root / "whl" / "cu118", "2.14.0+cu118")
    with serving_index(root) as served:
        yield served


def _resolve(index: LocalIndex, *, gpu: bool, cuda: str | None = None) -> Resolved:
    config = IndexConfig(index_url=f"{index.url}/pypi/simple")
    return _joint(["torch"], _Compiler(TARGET, config, (), False), gpu, NullProgress(), cuda)


def _torch_version(resolved: Resolved) -> str:
    return next(w.version for w in resolved.wheels if w.name == "torch")


@pytest.mark.integration
def test_gpu_false_takes_the_cpu_build_from_the_setting(
    index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTING, f"{index.url}/whl")
    assert _torch_version(_resolve(index, gpu=False)) == "2.14.0+cpu"


@pytest.mark.integration
def test_gpu_true_with_a_cuda_pin_takes_that_build(
    index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTING, f"{index.url}/whl/")
    assert _torch_version(_resolve(index, gpu=True, cuda="11.8")) == "2.14.0+cu118"
    # No pin: the default build, as the reference takes it.
    assert _torch_version(_resolve(index, gpu=True)) == "2.14.0"


@pytest.mark.integration
def test_no_build_for_the_cuda_pin_is_a_clear_error(
    index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SETTING, f"{index.url}/whl")
    with pytest.raises(LockError, match=r"no CUDA 12\.9 build of torch") as info:
        _resolve(index, gpu=True, cuda="12.9")
    assert f"{index.url}/whl/cu129/" in info.value.message
    assert info.value.hint
    assert "build.cuda" in info.value.hint


@pytest.mark.integration
def test_without_the_setting_no_cpu_build_names_it(
    index: LocalIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    with pytest.raises(LockError, match="CUDA build") as info:
        _resolve(index, gpu=False)
    assert info.value.hint
    assert SETTING in info.value.hint
    assert "gpu: true" in info.value.hint


@pytest.mark.integration
def test_an_unreachable_torch_index_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = f"http://127.0.0.1:{free_port()}/whl"
    monkeypatch.setenv(SETTING, dead)
    config = IndexConfig(find_links=())
    with pytest.raises(LockError, match="could not read") as info:
        _joint(["torch"], _Compiler(TARGET, config, (), False), False, NullProgress())
    assert info.value.hint
    assert SETTING in info.value.hint
    assert dead in info.value.hint


@pytest.mark.integration
@pytest.mark.network
def test_a_cpu_project_locks_the_cpu_build_through_the_local_index(
    tmp_path: Path, index: LocalIndex, cog_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cog lock of a gpu: false model that lists torch: the user's own indexes (this
    machine's) give the runtime's wheels, the torch index the CPU build."""
    monkeypatch.setenv(SETTING, f"{index.url}/whl")
    project = tmp_path / "project"
    project.mkdir()
    (project / "cog.yaml").write_text(
        'build:\n  python_version: "3.11"\n  python_packages:\n    - torch\n'
        'predict: "predict.py:Predictor"\n'
    )
    (project / "predict.py").write_text("")
    lock = lock_project(project, progress=NullProgress()).lock
    torch = next(w for w in lock.python if w.name == "torch")
    assert torch.version == "2.14.0+cpu"
    assert not any(w.name.startswith("nvidia") for w in lock.python)
    assert "127.0.0.1" not in (project / "cog.lock").read_text()
