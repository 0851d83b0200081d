"""What `cog run`/`serve` say about mistakes, before any container starts."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from cog.cli.main import cli
from tests.run.conftest import Entry, write_layout

pytestmark = pytest.mark.unit

SCHEMA = {
    "components": {
        "schemas": {
            "Input": {"properties": {"name": {"type": "string"}}, "required": ["name"]},
            "Output": {},
        }
    }
}


@pytest.fixture
def cog_layout(tmp_path: Path, cache_dir: Path) -> Path:
    layout = tmp_path / "image"
    labels = {"run.cog.version": "0.1.0", "run.cog.openapi_schema": json.dumps(SCHEMA)}
    write_layout(layout, [[Entry("srv", None)]], labels=labels)
    return layout


def run_cog(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    result = CliRunner().invoke(cli, args)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stderr


def test_image_without_cog_labels_is_refused(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = tmp_path / "plain"
    write_layout(layout, [[Entry("srv", None)]])
    code, err = run_cog(["run", f"oci:{layout}:latest"], tmp_path, monkeypatch)
    assert code == 1
    assert "is not a Cog image (it has no run.cog.* labels)" in err


def test_unknown_input_name_lists_the_real_ones(
    tmp_path: Path, cog_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run_cog(["run", f"oci:{cog_layout}", "-i", "nmae=x"], tmp_path, monkeypatch)
    assert code == 1
    # The reference's words.
    assert err == (
        'error: unknown input "nmae"; valid inputs are: name\nCheck them with `cog schema`.\n'
    )


def test_missing_required_input_is_named(
    tmp_path: Path, cog_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run_cog(["run", f"oci:{cog_layout}"], tmp_path, monkeypatch)
    assert code == 1
    assert err.startswith('error: missing required input "name"\n')


def test_missing_input_file_is_named(
    tmp_path: Path, cog_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err = run_cog(["run", f"oci:{cog_layout}", "-i", "name=@nope.txt"], tmp_path, monkeypatch)
    assert code == 1
    assert "file 'nope.txt' does not exist" in err


def test_missing_runc_names_the_package(
    tmp_path: Path, cog_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, err = run_cog(["run", f"oci:{cog_layout}", "-i", "name=x"], tmp_path, monkeypatch)
    assert code == 1
    assert "runc is not installed" in err
    assert "apt-get install runc" in err


def test_port_in_use_is_refused_before_starting(
    tmp_path: Path, cog_layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, err = run_cog(["serve", f"oci:{cog_layout}", "-p", str(port)], tmp_path, monkeypatch)
    assert code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert "Choose another one with -p PORT." in err
