"""`cog lock` with packages that have no wheel: the sdist pinned by sha256, its build
requirements as wheels, the compilers as build_debian; the pure parts unit-tested."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cog.errors import LockError
from cog.locking import lock_project
from cog.progress import NullProgress
from cog.rules import lockfile_text, sdist_build
from cog.rules.lockfile import DebPackage, Lock, Sdist, Target, Wheel
from cog.rules.pylock.resolve import Target as PythonTarget
from cog.rules.pylock.resolve import to_wheels
from cog.rules.sdist import (
    DEFAULT_BACKEND,
    DEFAULT_REQUIRES,
    compiler_roots,
    parse_build_system,
    read_build_system,
)
from tests.build._sdists import CEXT_NAME, PURE_NAME, cext_sdist, dynamic_sdist, pure_sdist
from tests.support.local_index import LocalIndex, serving_index
from tests.support.python_standalone import make_mirror, pyenv_build, serve_mirror, write_table

from .conftest import MakeProject

TARGET = PythonTarget("3.11", "x86_64-manylinux_2_36")
SHA = "a" * 64


@pytest.mark.unit
def test_build_system_defaults_and_fields() -> None:
    assert parse_build_system(None, "x.tar.gz").requires == DEFAULT_REQUIRES
    no_table = parse_build_system('[project]\nname = "x"\n', "x.tar.gz")
    assert (no_table.requires, no_table.backend) == (DEFAULT_REQUIRES, DEFAULT_BACKEND)
    text = (
        '[build-system]\nrequires = ["flit_core>=3.2,<4"]\n'
        'build-backend = "flit_core.buildapi"\nbackend-path = ["_build"]\n'
    )
    system = parse_build_system(text, "x.tar.gz")
    assert system.requires == ("flit_core>=3.2,<4",)
    assert system.backend == "flit_core.buildapi"
    assert system.backend_path == ("_build",)
    # requires given, backend not: PEP 517's legacy setuptools backend
    only = parse_build_system('[build-system]\nrequires = ["setuptools"]\n', "x")
    assert only.backend == DEFAULT_BACKEND


@pytest.mark.unit
@pytest.mark.parametrize(
    "text",
    [
        '[build-system]\nrequires = "setuptools"\n',
        "[build-system\n",
        "[build-system]\nbuild-backend = 3\n",
    ],
)
def test_a_malformed_build_system_is_an_error_naming_the_sdist(text: str) -> None:
    with pytest.raises(LockError, match=r"^x-1\.0\.tar\.gz") as info:
        parse_build_system(text, "x-1.0.tar.gz")
    assert info.value.hint


@pytest.mark.unit
def test_build_system_is_read_from_the_sdist_archive(tmp_path: Path) -> None:
    archive = cext_sdist(tmp_path)
    assert read_build_system(archive, archive.name).requires == ("setuptools>=61",)
    bare = tmp_path / "bare-1.0.tar.gz"
    with tarfile.open(bare, "w:gz") as tar:
        info = tarfile.TarInfo("bare-1.0/setup.py")
        info.size = 0
        tar.addfile(info, io.BytesIO(b""))
    assert read_build_system(bare, bare.name).requires == DEFAULT_REQUIRES
    as_zip = tmp_path / "zipped-1.0.zip"
    with zipfile.ZipFile(as_zip, "w") as zf:
        zf.writestr("zipped-1.0/pyproject.toml", '[build-system]\nrequires = ["hatchling"]\n')
    assert read_build_system(as_zip, as_zip.name).requires == ("hatchling",)
    two_tops = tmp_path / "two-1.0.zip"
    with zipfile.ZipFile(two_tops, "w") as zf:
        zf.writestr("a/pyproject.toml", "")
        zf.writestr("b/setup.py", "")
    with pytest.raises(LockError, match="one top-level folder"):
        read_build_system(two_tops, two_tops.name)


@pytest.mark.unit
def test_compilers_include_the_headers_only_for_debians_interpreter() -> None:
    assert compiler_roots("3.11", standalone=False) == ("build-essential", "python3.11-dev")
    assert compiler_roots("3.12", standalone=True) == ("build-essential",)


@pytest.mark.unit
def test_an_sdist_only_package_is_pinned_as_an_sdist_when_allowed() -> None:
    url = "http://127.0.0.1:1/files/x-1.0.tar.gz"
    package = {
        "name": "X_Y",
        "version": "1.0",
        "sdist": {"url": url, "size": 10, "hashes": {"sha256": SHA}},
    }
    resolved = to_wheels([package], TARGET, allow_sdists=True)
    assert resolved.wheels == ()
    assert resolved.sdists == (
        Sdist(name="x-y", version="1.0", filename="x-1.0.tar.gz", sha256=SHA, size=10),
    )
    assert resolved.urls == {SHA: url}
    with pytest.raises(LockError, match="has no wheel"):
        to_wheels([package], TARGET)


def _lock(**sections: object) -> Lock:
    target = Target(python_version="3.11", debian_suite="bookworm")
    return Lock(inputs_sha256=SHA, target=target, **sections)  # type: ignore[arg-type]


@pytest.mark.unit
def test_sdist_sections_round_trip_through_the_text_form() -> None:
    deb = DebPackage(
        name="gcc",
        version="4:12.2.0-3",
        architecture="amd64",
        suite="bookworm",
        filename="pool/main/g/gcc.deb",
        sha256="b" * 64,
        size=5,
    )
    wheel = Wheel(name="setuptools", version="80.0", filename="s.whl", sha256="c" * 64, size=3)
    sdists = (
        Sdist(
            name="z",
            version="1",
            filename="z-1.tar.gz",
            sha256="d" * 64,
            size=1,
            build_requires=("setuptools==80.0",),
        ),
        Sdist(name="a", version="1", filename="a-1.tar.gz", sha256="e" * 64, size=1),
    )
    lock = _lock(sdist=sdists, build_python=(wheel,), build_debian=(deb,))
    text = lockfile_text.dumps(lock)
    assert text.index('name = "a"') < text.index('name = "z"')
    assert 'build_requires = ["setuptools==80.0"]' in text
    again = lockfile_text.loads(text, "cog.lock")
    assert again.sdist == tuple(sorted(sdists, key=lambda s: s.name))
    assert again.build_debian == (deb,)
    broken = text.replace("d" * 64, "D" * 64)
    with pytest.raises(LockError, match=r"\[\[sdist\]\] z has a malformed sha256"):
        lockfile_text.loads(broken, "cog.lock")


@pytest.mark.unit
def test_the_build_cache_key_follows_the_build_environment() -> None:
    wheel = Wheel(name="setuptools", version="80.0", filename="s.whl", sha256="c" * 64, size=3)
    other = Wheel(name="flit-core", version="3.9", filename="f.whl", sha256="f" * 64, size=3)
    sdist = Sdist(
        name="z",
        version="1",
        filename="z-1.tar.gz",
        sha256="d" * 64,
        size=1,
        build_requires=("setuptools==80.0",),
    )
    deb = DebPackage(
        name="gcc",
        version="1",
        architecture="amd64",
        suite="bookworm",
        filename="pool/g.deb",
        sha256="b" * 64,
        size=5,
    )
    lock = _lock(sdist=(sdist,), build_python=(wheel, other), build_debian=(deb,))

    def key(lock: Lock, sdist: Sdist = sdist, interpreter: str = "debian", mtime: int = 0) -> str:
        return sdist_build.build_key(
            sdist, sdist_build.environment_digest(lock, sdist, interpreter, mtime)
        )

    first = key(lock)
    assert key(lock) == first
    # A build requirement this sdist does not use, or SOURCE_DATE_EPOCH below 1980 (zip's
    # floor), changes nothing.
    assert key(_lock(sdist=(sdist,), build_python=(wheel,), build_debian=(deb,))) == first
    assert key(lock, mtime=1) == first
    assert key(lock, mtime=1_700_000_000) != first
    assert key(lock, interpreter="python-build-standalone:" + SHA) != first
    changed_deb = deb.model_copy(update={"sha256": "0" * 64})
    assert key(_lock(sdist=(sdist,), build_python=(wheel,), build_debian=(changed_deb,))) != first
    changed_wheel = wheel.model_copy(update={"sha256": "1" * 64})
    assert key(_lock(sdist=(sdist,), build_python=(changed_wheel,), build_debian=(deb,))) != first
    assert key(lock, sdist=sdist.model_copy(update={"sha256": "2" * 64})) != first


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalIndex]:
    root = tmp_path_factory.mktemp("sdist-index")
    pure_sdist(root)
    pure_sdist(root, "1.1")
    cext_sdist(root)
    with serving_index(root) as served:
        yield served


@pytest.mark.integration
@pytest.mark.network
def test_lock_pins_sdists_build_requirements_and_compilers_without_a_host_name(
    make_project: MakeProject, index: LocalIndex, cog_cache: Path
) -> None:
    project = make_project(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n'
        "predict: predict.py:Predictor\n"
    )
    lines = [f"--extra-index-url {index.simple}", f"{PURE_NAME}==1.0", f"{CEXT_NAME}==1.0"]
    (project / "requirements.txt").write_text("\n".join(lines) + "\n")
    result = lock_project(project, progress=NullProgress())
    lock, text = result.lock, result.path.read_text()
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in index.folder.iterdir()}
    assert {s.name: files[s.filename] for s in lock.sdist} == {
        PURE_NAME: files["sdist_pure_demo-1.0.tar.gz"],
        CEXT_NAME: files["sdist_cext_demo-1.0.tar.gz"],
    }
    assert not {s.name for s in lock.sdist} & {w.name for w in lock.python}
    setuptools = next(w for w in lock.build_python if w.name == "setuptools")
    for pinned in lock.sdist:
        assert pinned.build_requires == (f"setuptools=={setuptools.version}",)
    compilers = {d.name for d in lock.build_debian}
    assert {"gcc", "libc6-dev", "python3.11-dev", "python3.11"} <= compilers
    assert "gcc" not in {d.name for d in lock.debian}
    image_debs = {(d.name, d.sha256) for d in lock.debian}
    assert image_debs <= {(d.name, d.sha256) for d in lock.build_debian}
    assert "127.0.0.1" not in text
    assert "://" not in text
    # Re-locking unchanged inputs is a no-op.
    assert not lock_project(project, progress=NullProgress()).changed


@pytest.mark.integration
@pytest.mark.network
def test_a_relock_keeps_the_sdists_pins_unless_upgraded(
    make_project: MakeProject, index: LocalIndex, cog_cache: Path
) -> None:
    project = make_project(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n'
        "predict: predict.py:Predictor\n"
    )
    requirements = project / "requirements.txt"
    requirements.write_text(f"--extra-index-url {index.simple}\n{PURE_NAME}<1.1\n")
    first = lock_project(project, progress=NullProgress()).lock
    assert [(s.name, s.version) for s in first.sdist] == [(PURE_NAME, "1.0")]
    requirements.write_text(f"--extra-index-url {index.simple}\n{PURE_NAME}\n")
    kept = lock_project(project, progress=NullProgress()).lock
    assert [s.version for s in kept.sdist] == ["1.0"]
    assert kept.build_python == first.build_python
    assert kept.build_debian == first.build_debian
    upgraded = lock_project(project, upgrade=True, progress=NullProgress()).lock
    assert [s.version for s in upgraded.sdist] == ["1.1"]


@pytest.mark.integration
@pytest.mark.network
def test_a_dynamic_sdists_metadata_is_read_by_the_targets_interpreter_in_a_sandbox(
    make_project: MakeProject, index: LocalIndex, tmp_path: Path, cog_cache: Path
) -> None:
    host_only = tmp_path / "host-only"
    host_only.mkdir()
    marker = host_only / "written-by-setup-py"
    dynamic_sdist(index.folder, "sdist-dynamic-demo", marker)
    project = make_project(
        'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\n'
        "predict: predict.py:Predictor\n"
    )
    lines = [f"--extra-index-url {index.simple}", "sdist-dynamic-demo"]
    (project / "requirements.txt").write_text("\n".join(lines) + "\n")
    lock = lock_project(project, progress=NullProgress()).lock
    # setup.py ran with Debian's python3.11 (prefix /usr), where the host's files are not.
    assert sorted(s.name for s in lock.sdist) == ["sdist-dynamic-demo", PURE_NAME]
    assert not marker.exists()


@pytest.mark.integration
@pytest.mark.network
def test_a_python_build_standalone_target_reads_metadata_with_that_interpreter(
    make_project: MakeProject,
    index: LocalIndex,
    tmp_path: Path,
    cog_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = pyenv_build("3.12")
    if source is None:
        pytest.skip("no pyenv CPython 3.12 on this host to make the stand-in archive from")
    standin = make_mirror(tmp_path / "mirror", [source])[0]
    monkeypatch.setenv(
        "COG_PYTHON_STANDALONE_TABLE", str(write_table(tmp_path / "t.toml", [standin]))
    )
    host_only = tmp_path / "host-only"
    host_only.mkdir()
    marker = host_only / "written-by-setup-py"
    dynamic_sdist(index.folder, "sdist-dynamic-pbs-demo", marker)
    project = make_project(
        f'build:\n  python_version: "{standin.version}"\n'
        "  python_requirements: requirements.txt\npredict: predict.py:Predictor\n"
    )
    lines = [f"--extra-index-url {index.simple}", "sdist-dynamic-pbs-demo"]
    (project / "requirements.txt").write_text("\n".join(lines) + "\n")
    with serve_mirror(tmp_path / "mirror") as mirror:
        monkeypatch.setenv("UV_PYTHON_INSTALL_MIRROR", mirror)
        lock = lock_project(project, progress=NullProgress()).lock
    # setup.py ran with the 3.12 build (the host's venv is 3.11), the host read-only.
    names = sorted(s.name for s in lock.sdist)
    assert names == [CEXT_NAME, "sdist-dynamic-pbs-demo", PURE_NAME]
    assert not marker.exists()
