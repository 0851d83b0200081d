"""Small source distributions made by the tests: a pure-Python one and a C extension."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

PURE_NAME = "sdist-pure-demo"
CEXT_NAME = "sdist-cext-demo"
BROKEN_NAME = "sdist-broken-demo"

_SETUPTOOLS_BUILD = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""

_C_SOURCE = """\
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *triple(PyObject *self, PyObject *args) {
    long n;
    if (!PyArg_ParseTuple(args, "l", &n)) return NULL;
    return PyLong_FromLong(3 * n);
}

static PyMethodDef methods[] = {{"triple", triple, METH_VARARGS, "3 * n"}, {NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speed", NULL, -1, methods};
PyMODINIT_FUNC PyInit__speed(void) { return PyModule_Create(&module); }
"""


def _pkg_info(name: str, version: str) -> str:
    return f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n"


def _project(name: str, version: str) -> str:
    return f'\n[project]\nname = "{name}"\nversion = "{version}"\ndependencies = []\n'


def write_sdist(folder: Path, name: str, version: str, files: dict[str, str]) -> Path:
    """``folder/<name>-<version>.tar.gz`` holding ``files`` under ``<name>-<version>/``
    (with a static PKG-INFO unless ``files`` gives one)."""
    stem = f"{name.replace('-', '_')}-{version}"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel, text in sorted({"PKG-INFO": _pkg_info(name, version), **files}.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"{stem}/{rel}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.tar.gz"
    path.write_bytes(raw.getvalue())
    return path


def pure_sdist(folder: Path, version: str = "1.0") -> Path:
    module = PURE_NAME.replace("-", "_")
    return write_sdist(
        folder,
        PURE_NAME,
        version,
        {
            "pyproject.toml": _SETUPTOOLS_BUILD + _project(PURE_NAME, version),
            f"{module}/__init__.py": "def shout(text):\n    return text.upper() + '!'\n",
        },
    )


def cext_sdist(folder: Path, version: str = "1.0", *, name: str = CEXT_NAME) -> Path:
    """A C extension; any other ``name`` than CEXT_NAME gets C that does not compile."""
    module = name.replace("-", "_")
    source = _C_SOURCE if name == CEXT_NAME else _C_SOURCE.replace("3 * n", "3 * n +")
    setup = (
        "from setuptools import Extension, setup\n"
        f"setup(ext_modules=[Extension('{module}._speed', ['src/speed.c'])])\n"
    )
    return write_sdist(
        folder,
        name,
        version,
        {
            "pyproject.toml": _SETUPTOOLS_BUILD
            + _project(name, version)
            + f'\n[tool.setuptools]\npackages = ["{module}"]\n',
            "setup.py": setup,
            f"{module}/__init__.py": "from ._speed import triple\n",
            "src/speed.c": source,
        },
    )


def dynamic_sdist(folder: Path, name: str, marker: Path) -> Path:
    """An sdist whose metadata is dynamic (PKG-INFO 2.1, setup.py only): reading it runs
    setup.py. That requires PURE_NAME when the interpreter's prefix is /usr (Debian's own,
    as in the image) or it is a 3.12 (the host's venv is 3.11), CEXT_NAME when it can see
    ``marker``'s folder (the host's files), and tries to write ``marker``."""
    setup = (
        "import contextlib, os, sys\n"
        "from setuptools import setup\n"
        "deps = []\n"
        "if sys.base_prefix == '/usr' or sys.version_info[:2] == (3, 12):\n"
        f"    deps.append({PURE_NAME!r})\n"
        f"if os.path.isdir({str(marker.parent)!r}):\n    deps.append({CEXT_NAME!r})\n"
        "with contextlib.suppress(OSError):\n"
        f"    open({str(marker)!r}, 'w').write('setup.py ran here')\n"
        f"setup(name={name!r}, version='1.0', py_modules=[], install_requires=deps)\n"
    )
    info = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    return write_sdist(folder, name, "1.0", {"PKG-INFO": info, "setup.py": setup})
