"""What the commands make of their flags before calling their capability."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import cog.runtime
from cog.building import BuildResult
from cog.cli._input_flags import FileInput
from cog.cli._options import BuildSecret, ProjectFile, parse_env, parse_secret
from cog.cli.commands import build as build_module
from cog.cli.commands import exec as exec_module
from cog.cli.commands import run as run_module
from cog.cli.commands.build import BuildFlags
from cog.cli.commands.lock import LockRequest, lock_request
from cog.cli.commands.login import TOKEN_USERNAME, LoginRequest, login_request
from cog.cli.commands.run import RunRequest
from cog.cli.main import cli
from cog.errors import CogError


def _lock(**overrides: Any) -> LockRequest:
    params: dict[str, Any] = {
        "config_file": "cog.yaml",
        "check": False,
        "upgrade": False,
        "platform": "linux/amd64",
        "progress": "auto",
        "packages": (),
    }
    return lock_request(**(params | overrides))


@pytest.mark.unit
def test_lock_upgrade_forms() -> None:
    assert _lock().upgrade is False
    assert _lock(upgrade=True).upgrade is True
    assert _lock(upgrade=True, packages=("torch", "numpy")).upgrade == ("torch", "numpy")
    assert _lock(platform="linux/arm64").platform == "linux/arm64"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"packages": ("torch",)}, "package names given without --upgrade: torch"),
        ({"check": True, "upgrade": True}, "--check and --upgrade were both given"),
        ({"platform": "amd64"}, "--platform 'amd64' is not in the form os/arch"),
    ],
)
def test_lock_flag_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(CogError) as info:
        _lock(**overrides)
    assert info.value.message == message


@pytest.mark.unit
def test_secret_and_env_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_secret("id=pip,src=/p/pip.conf") == BuildSecret("pip", Path("/p/pip.conf"))
    assert parse_secret("source=/p/x,id=x") == BuildSecret("x", Path("/p/x"))
    # BuildKit's other forms, as docker buildx reads them.
    assert parse_secret("id=hf,env=HF_TOKEN") == BuildSecret("hf", env="HF_TOKEN")
    assert parse_secret("type=env,id=hf,src=HF_TOKEN") == BuildSecret("hf", env="HF_TOKEN")
    monkeypatch.setenv("HF_TOKEN", "x")
    monkeypatch.delenv("pip.conf", raising=False)
    assert parse_secret("id=HF_TOKEN") == BuildSecret("HF_TOKEN", env="HF_TOKEN")
    assert parse_secret("id=pip.conf") == BuildSecret("pip.conf", Path("pip.conf"))
    for bad in ("pip", "id=,src=/x", "id=a,src=/x,mode=1", "type=socket,id=a", "src=/x"):
        with pytest.raises(CogError) as info:
            parse_secret(bad)
        assert info.value.message == (
            f"--secret '{bad}' is not in the form id=ID,src=PATH or id=ID,env=NAME"
        )
    assert parse_env(("A=1", "B=x=y", "A=2", "C=")) == {"A": "2", "B": "x=y", "C": ""}
    with pytest.raises(CogError) as env_info:
        parse_env(("NOVALUE",))
    assert env_info.value.message == "-e 'NOVALUE' is not in the form NAME=value"


def _login(stdin: str, **overrides: Any) -> LoginRequest:
    params: dict[str, Any] = {
        "registry": "127.0.0.1:5000",
        "username": None,
        "token_stdin": False,
        "password_stdin": False,
        "environ": {},
    }
    return login_request(stdin=io.StringIO(stdin), **(params | overrides))


@pytest.mark.unit
def test_login_credentials() -> None:
    assert _login("s3cret\n", username="me", password_stdin=True) == LoginRequest(
        "127.0.0.1:5000", "me", "s3cret"
    )
    assert _login("tok\n", token_stdin=True) == LoginRequest(
        "127.0.0.1:5000", TOKEN_USERNAME, "tok"
    )
    from_env = _login("tok", registry=None, token_stdin=True, environ={"COG_REGISTRY_HOST": "h:1"})
    assert from_env.registry == "h:1"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("overrides", "stdin", "message"),
    [
        ({"registry": None}, "", "no registry given"),
        (
            {"token_stdin": True, "password_stdin": True},
            "x",
            "--token-stdin and --password-stdin were both given",
        ),
        ({"password_stdin": True}, "pw", "--password-stdin needs a username"),
        ({"password_stdin": True, "username": "me"}, "\n", "no password on stdin"),
        ({}, "", "cannot prompt for credentials: stdin is not a terminal"),
    ],
)
def test_login_errors(overrides: dict[str, Any], stdin: str, message: str) -> None:
    with pytest.raises(CogError) as info:
        _login(stdin, **overrides)
    assert info.value.message == message


@pytest.mark.unit
def test_run_and_predict_build_the_same_request(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "photo.jpg").write_bytes(b"jpg")
    seen: list[RunRequest] = []
    monkeypatch.setattr(run_module, "run", seen.append)
    argv = ["img.example:5000/m:1", "-i", "image=@photo.jpg", "-i", "n=2", "-e", "A=1"]
    for command in ("run", "predict"):
        result = runner.invoke(cli, [command, *argv, "-o", "out.png", "--setup-timeout", "9"])
        assert result.exit_code == 0, result.output
    assert seen[0] == seen[1]
    assert seen[0].image == "img.example:5000/m:1"
    assert seen[0].inputs == {
        "image": FileInput(project / "photo.jpg"),
        "n": "2",
    }
    assert seen[0].env == {"A": "1"}
    assert seen[0].output == Path("out.png")
    assert seen[0].setup_timeout == 9


@pytest.mark.unit
def test_serve_local_calls_the_runtime(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text("build:\n  python_version: '3.12'\n")
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(cog.runtime, "serve_local", lambda *args: calls.append(args))
    result = runner.invoke(
        cli, ["serve", "--local", "-p", "0", "--upload-url", "http://127.0.0.1:9/u/"]
    )
    assert result.exit_code == 0, result.output
    assert calls == [(project, "127.0.0.1", 0, "http://127.0.0.1:9/u/")]


@pytest.mark.unit
def test_exec_passes_the_command_through(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(exec_module, "exec_in_image", seen.append)
    result = runner.invoke(cli, ["exec", "-p", "8888", "python", "-c", "print(1)", "--help"])
    assert result.exit_code == 0, result.output
    assert seen[0].args == ("python", "-c", "print(1)", "--help")
    assert seen[0].publish == ("8888",)


@pytest.mark.unit
def test_push_needs_an_image_name(project: Path, runner: CliRunner) -> None:
    (project / "cog.yaml").write_text("build:\n  gpu: false\n")
    result = runner.invoke(cli, ["push"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no image to push: give one as an argument or set image in cog.yaml\n"
        "For example: cog push my-registry.example:5000/me/my-model\n"
    )


@pytest.mark.unit
def test_schema_without_a_runner(project: Path, runner: CliRunner) -> None:
    (project / "cog.yaml").write_text("build:\n  gpu: false\n")
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: cog.yaml: names no model to describe (no run, predict or train)\n"
        'Add the runner, for example: run: "run.py:Runner"\n'
    )


@pytest.mark.unit
def test_build_flags(project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[BuildFlags, str | None]] = []
    monkeypatch.setattr(build_module, "build", lambda flags, tag: seen.append((flags, tag)))
    argv = [
        "build",
        "-t",
        "m:1",
        "--secret",
        "id=pip,src=/p",
        "--use-cog-base-image=false",
        "--use-cuda-base-image",
        "false",
        "--separate-weights",
        "--no-cache",
        "--progress",
        "plain",
        "-f",
        "sub/cog.yaml",
    ]
    result = runner.invoke(cli, argv)
    assert result.exit_code == 0, result.output
    assert seen == [
        (
            BuildFlags(
                project=ProjectFile(Path("sub/cog.yaml")),
                no_cache=True,
                progress="plain",
                secrets=(BuildSecret("pip", Path("/p")),),
                separate_weights=True,
                use_cog_base_image=False,
                use_cuda_base_image="false",
            ),
            "m:1",
        )
    ]
    assert seen[0][0].project.project_dir == project / "sub"
    assert seen[0][0].project.config_file == "cog.yaml"


@pytest.mark.unit
def test_build_secret_from_the_environment_is_a_private_file_for_the_build(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.12"\n')
    (project / "pip.conf").write_text("[global]\n")
    monkeypatch.setenv("MY_TOKEN", "hunter2")
    seen: dict[str, tuple[str, int]] = {}
    given: list[dict[str, Path]] = []

    def build_project(_: Path, *, secrets: dict[str, Path], **__: Any) -> Any:
        given.append(secrets)
        for name, path in secrets.items():
            seen[name] = (path.read_text(), path.stat().st_mode & 0o777)
        raise CogError("stop here")

    monkeypatch.setattr(build_module, "build_project", build_project)
    argv = ["build", "--secret", "id=tok,env=MY_TOKEN", "--secret", "id=pip,src=pip.conf"]
    result = runner.invoke(cli, argv)
    assert result.stderr == "error: stop here\n"
    assert seen["tok"] == ("hunter2", 0o600)
    assert seen["pip"][0] == "[global]\n"
    assert given[0]["pip"] == Path("pip.conf")
    assert not given[0]["tok"].exists()  # removed once the build is over
    monkeypatch.delenv("MY_TOKEN")
    unset = runner.invoke(cli, ["push", "r.example:5000/m", "--secret", "id=tok,env=MY_TOKEN"])
    assert unset.exit_code == 1
    assert "error: --secret id=tok: environment variable MY_TOKEN is not set" in unset.stderr


@pytest.mark.unit
def test_build_says_image_built_as_and_prints_the_digest(
    project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "cog.yaml").write_text('build:\n  python_version: "3.12"\n')
    digest = "sha256:" + "a" * 64
    done = BuildResult(project, digest, "my-model:latest", 1, project / "s", project / "l")
    monkeypatch.setattr(build_module, "build_project", lambda *_, **__: done)
    result = runner.invoke(cli, ["build", "-t", "my-model"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "Image built as my-model:latest\n"  # the reference's line
    assert result.stdout == f"{digest}\n"
