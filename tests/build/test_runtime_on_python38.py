"""The code an image runs (the SDK, the signature reader, cog.yaml's checks, the runtime)
on the oldest Python cog builds, 3.8, without building an image: a quick guard, since
`collections.abc.Callable[...]`, `list[...]` or `X | Y` evaluated at import time, a
parenthesised `with`, `str.removeprefix` or `functools.cache` all break only there.

The interpreter is the host's pyenv CPython 3.8 (skipped where there is none), in a venv
with the runtime's requirements as third_party/runtime.toml resolves them for 3.8, and
this checkout's cog package as an image gets it (a snapshot, on PYTHONPATH).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from cog.rules.host_tools import find_uv
from cog.rules.self_package import snapshot
from cog.third_party import data_file
from tests.build._runc import free_port, get_json, wait_ready
from tests.support.python_standalone import pyenv_build

pytestmark = [pytest.mark.integration, pytest.mark.network]

# Every module an image imports; the host-only ones (CLI, building, locking, the rules
# that assemble images) need not run on 3.8.
_HOST_ONLY = ("cog.cli", "cog._container", "cog.rules", "cog._diagnosis", "cog.building")
_HOST_ONLY_TOO = ("cog.locking", "cog._locking", "cog.pushing", "cog.progress", "cog._templates")
_IMAGE_RULES = ("cog.rules.python_standalone", "cog.rules.debian.targets")

_IMPORT_ALL = """
import importlib, json, sys, traceback
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as error:
        where = traceback.extract_tb(error.__traceback__)[-1]
        failed[name] = f"{type(error).__name__}: {error} at {where.filename}:{where.lineno}"
print(json.dumps(failed))
"""

_MODEL = """
from typing import List, Optional

from cog import BaseModel, BasePredictor, Input, Path


class Out(BaseModel):
    text: str
    files: List[Path]


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.prefix = "hello "

    def predict(
        self,
        text: str = Input(description="text"),
        n: int = Input(default=1, ge=1, le=3),
        style: str = Input(default="a", choices=["a", "b"]),
        note: Optional[str] = Input(default=None),
        upload: Path = Input(description="a file"),
    ) -> Out:
        out = Path("/tmp") / "cog-py38-out.txt"
        out.write_text(upload.read_text().upper())
        return Out(text=self.prefix + text * n + style + str(note), files=[out])
"""


@pytest.fixture(scope="module")
def py38(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the 3.8 venv's python, a folder holding this checkout's cog package)."""
    source = pyenv_build("3.8")
    if source is None:
        pytest.skip("no pyenv CPython 3.8 on this host")
    root = tmp_path_factory.mktemp("py38")
    uv = find_uv().path
    venv = root / "venv"
    subprocess.run(
        [uv, "venv", "-q", "-p", str(source / "bin/python3.8"), str(venv)],
        check=True,
        capture_output=True,
    )
    requirements = tomllib.loads(data_file("runtime.toml").read_text())["requirements"]
    (root / "requirements.txt").write_text("\n".join(requirements) + "\n")
    python = venv / "bin/python"
    subprocess.run(
        [uv, "pip", "install", "-q", "-p", str(python), "-r", str(root / "requirements.txt")],
        check=True,
        capture_output=True,
    )
    return python, snapshot(root / "cog-source")


def _image_modules(top: Path) -> list[str]:
    names = []
    for path in sorted((top / "cog").rglob("*.py")):
        parts = list(path.relative_to(top).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        if name.startswith(_HOST_ONLY + _HOST_ONLY_TOO) and not name.startswith(_IMAGE_RULES):
            continue
        names.append(name)
    return names


def test_every_module_an_image_imports_imports_on_python_38(py38: tuple[Path, Path]) -> None:
    python, source = py38
    modules = _image_modules(source)
    assert {"cog", "cog.runtime._server", "cog._sdk.typemap", "cog.config"} <= set(modules)
    done = subprocess.run(
        [str(python), "-c", _IMPORT_ALL, *modules],
        cwd=source,  # not this checkout, whose cog/ has no runtime/ inside
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}


def test_the_runtime_serves_a_model_on_python_38(py38: tuple[Path, Path], tmp_path: Path) -> None:
    python, source = py38
    (tmp_path / "cog.yaml").write_text(
        'build:\n  python_version: "3.8"\npredict: "predict.py:Predictor"\n'
    )
    (tmp_path / "predict.py").write_text(_MODEL)
    port = free_port()
    server = subprocess.Popen(
        [str(python), "-m", "cog.runtime", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(source), "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = wait_ready(base)
        assert health["status"] == "READY", health
        assert health["version"]["python"].startswith("3.8.")
        schema = get_json(f"{base}/openapi.json")
        assert schema["components"]["schemas"]["Input"]["required"] == ["text", "upload"]
        body = {"input": {"text": "x", "n": 2, "upload": "data:text/plain;base64,aGk="}}
        prediction = get_json(f"{base}/predictions", body)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode(errors="replace")
    assert prediction["status"] == "succeeded", (prediction, output)
    assert prediction["output"] == {
        "text": "hello xxaNone",
        "files": ["data:text/plain;base64,SEk="],
    }
    assert "Traceback" not in output, output
