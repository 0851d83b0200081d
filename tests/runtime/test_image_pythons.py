"""The SDK and the runtime run on the image's interpreter, which can be older than the host's.

cog builds images for Python 3.8 and up (third_party/runtime.toml takes the runtime's
dependencies at their last 3.8 releases there). With the host's pyenv builds of the older
versions, every module an image runs must compile on them, and the worker's path (import
cog, read the model's signature, pickle the pipe's messages) must run there. The server on
3.8 with its third-party wheels: tests/build/test_runtime_on_python38.py; in images:
tests/e2e/test_python_matrix.py.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from cog.rules.self_package import snapshot

pytestmark = pytest.mark.integration

PYENV = Path("/root/.pyenv/versions")
# Host-only parts of the package (the CLI, building, running images) need the host's Python;
# of rules/, an image reads only the third_party tables through these two (cog.yaml checks).
_HOST_ONLY = ("cog/cli/", "cog/_container/", "cog/rules/")
_IMAGE_RULES = {"cog/rules/python_standalone.py", "cog/rules/debian/targets.py"}
_PREDICTOR = """\
from typing import Optional

from cog import BaseModel, BasePredictor, Input, Path


class Out(BaseModel):
    text: str
    size: Optional[int] = None


class Predictor(BasePredictor):
    def predict(
        self, text: str = Input(description="text"), image: Optional[Path] = None
    ) -> Out:
        return Out(text="hello " + text)
"""
_WORKER_PATH = """\
import pickle, sys
sys.path.insert(0, ".")
import cog
from cog._signature.introspect import signature_of
from cog._signature.model import Mode
from cog.runtime._messages import Cancel, Done, Log, RunJob, Status
import predict

signature = signature_of(predict.Predictor, Mode.PREDICT)
print(",".join(i.name for i in signature.inputs))
for message in (Log("p1", "stdout", "x"), Cancel("p1"), RunJob("p1", {"text": "a"})):
    assert pickle.loads(pickle.dumps(message)) == message, message
print(predict.Predictor().predict(text="py").text)
"""


def _interpreter(minor: str) -> Path:
    found = sorted(p / "bin" / f"python{minor}" for p in PYENV.glob(f"{minor}.*"))
    found = [p for p in found if p.is_file()]
    if not found:
        pytest.skip(f"no pyenv CPython {minor} on this host")
    return found[-1]


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return snapshot(tmp_path_factory.mktemp("site"))


def _image_modules(site: Path) -> list[Path]:
    found = []
    for path in sorted(site.rglob("*.py")):
        rel = path.relative_to(site).as_posix()
        if rel in _IMAGE_RULES or not rel.startswith(_HOST_ONLY):
            found.append(path)
    return found


@pytest.mark.parametrize("minor", ["3.8", "3.9", "3.10"])
def test_every_module_an_image_runs_compiles_on_older_pythons(
    minor: str, package: Path, tmp_path: Path
) -> None:
    python = _interpreter(minor)
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(str(p) for p in _image_modules(package)))
    check = textwrap.dedent("""\
        import sys
        bad = []
        for name in open(sys.argv[1]).read().split("\\n"):
            try:
                compile(open(name, "rb").read(), name, "exec")
            except SyntaxError as e:
                bad.append(f"{name}:{e.lineno}: {e.msg}")
        print("\\n".join(bad))
        """)
    done = subprocess.run(
        [str(python), "-I", "-c", check, str(listing)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("minor", ["3.8", "3.9", "3.10"])
def test_the_workers_path_runs_on_older_pythons(minor: str, package: Path, tmp_path: Path) -> None:
    python = _interpreter(minor)
    (tmp_path / "predict.py").write_text(_PREDICTOR)
    done = subprocess.run(
        [str(python), "-B", "-c", _WORKER_PATH],
        cwd=tmp_path,
        env={"PYTHONPATH": str(package), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["text,image", "hello py"]
