"""build.run commands under bubblewrap: their changes become layers, secrets never do."""

from __future__ import annotations

import json
import secrets
import tarfile
from pathlib import Path

import pytest

from cog.errors import BuildError
from cog.rules.oci import OciLayout

from ._runc import run_once, unpack
from .conftest import build, copy_project, lock

pytestmark = [pytest.mark.integration, pytest.mark.network]

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "build" / "runsteps"


def _members(layout: Path, digest: str) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(OciLayout(layout).blob(digest)) as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(layout: Path, digest: str, name: str) -> bytes:
    with tarfile.open(OciLayout(layout).blob(digest)) as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read()


def test_run_steps_become_layers_without_the_secret(tmp_path: Path, cog_source: Path) -> None:
    project = copy_project(FIXTURE, tmp_path / "project")
    lock(project)
    with pytest.raises(BuildError, match="token"):
        build(project, tmp_path / "cache", cog_source, tag="steps")
    secret = tmp_path / "token.txt"
    value = secrets.token_hex(16)
    secret.write_text(value)
    result = build(project, tmp_path / "cache", cog_source, tag="steps", secrets={"token": secret})
    layout = result.layout
    manifest = OciLayout(layout).blob(result.manifest_digest).read_text()
    layers = [layer["digest"] for layer in json.loads(manifest)["layers"]]
    # OS, wheels (the steps' pip among them), cog, two run steps, code: the steps are
    # the two layers before the code.
    step_one, step_two = layers[-3], layers[-2]
    first, second = _members(layout, step_one), _members(layout, step_two)
    assert _read(layout, step_one, "etc/built-by-run") == b"built\n"
    assert "etc/.wh.timezone" in first
    assert "opt/tool" in first
    assert set(second) == {"opt", "opt/tool", "opt/tool/secret-length"}
    assert _read(layout, step_two, "opt/tool/secret-length") == b"32\n"
    for digest in layers:
        with tarfile.open(OciLayout(layout).blob(digest)) as tar:
            for member in tar:
                assert not member.name.startswith("run/secrets")
                if member.isfile() and member.size < 1_000_000:
                    extracted = tar.extractfile(member)
                    assert extracted is not None
                    assert value.encode() not in extracted.read(), member.name

    bundle = tmp_path / "bundle"
    unpack(layout, "steps", bundle)
    done = run_once(bundle, ["/bin/sh", "-c", "cat /etc/built-by-run; test ! -e /etc/timezone"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "built\n"
