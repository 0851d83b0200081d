"""`cog login`: store registry credentials where docker, podman and skopeo read them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

import click

from cog.errors import CogError
from cog.rules.registry.auth import login as store_login

# The docker convention for a login that is a bearer/identity token, not a user.
TOKEN_USERNAME = "<token>"  # noqa: S105 (a user name, not a secret)


@dataclass(frozen=True)
class LoginRequest:
    registry: str
    username: str
    password: str


@click.command("login")
@click.argument("registry", required=False)
@click.option("-u", "--username", default=None, help="Username for the registry.")
@click.option(
    "--token-stdin",
    is_flag=True,
    help="Pass login token on stdin instead of prompting for a password.",
)
@click.option("--password-stdin", is_flag=True, help="Take the password from stdin.")
def login_command(
    registry: str | None, username: str | None, token_stdin: bool, password_stdin: bool
) -> None:
    """Log in to a container registry.

    REGISTRY defaults to $COG_REGISTRY_HOST. Prompts for username and password unless
    they are given, then verifies them and stores them with docker's credential system
    ($DOCKER_CONFIG/config.json or ~/.docker/config.json, or a credential helper).
    """
    request = login_request(
        registry=registry,
        username=username,
        token_stdin=token_stdin,
        password_stdin=password_stdin,
        stdin=sys.stdin,
    )
    login(request)


def login_request(
    *,
    registry: str | None,
    username: str | None,
    token_stdin: bool,
    password_stdin: bool,
    stdin: IO[str],
    environ: Mapping[str, str] | None = None,
) -> LoginRequest:
    env = os.environ if environ is None else environ
    host = registry or env.get("COG_REGISTRY_HOST")
    if not host:
        raise CogError(
            "no registry given",
            "Name it: cog login HOST[:PORT] (or set COG_REGISTRY_HOST).",
        )
    if token_stdin and password_stdin:
        raise CogError(
            "--token-stdin and --password-stdin were both given",
            "Use --token-stdin for a token, --password-stdin (with -u) for a password.",
        )
    if token_stdin or password_stdin:
        secret = stdin.read().strip()
        what = "token" if token_stdin else "password"
        if not secret:
            raise CogError(
                f"no {what} on stdin", f"Pipe it in: echo $SECRET | cog login {host} --{what}-stdin"
            )
        if token_stdin:
            return LoginRequest(host, username or TOKEN_USERNAME, secret)
        if not username:
            raise CogError(
                "--password-stdin needs a username",
                f"Add -u: cog login {host} -u USER --password-stdin",
            )
        return LoginRequest(host, username, secret)
    if not stdin.isatty():
        raise CogError(
            "cannot prompt for credentials: stdin is not a terminal",
            f"Pipe the password in: cog login {host} -u USER --password-stdin",
        )
    user = username or click.prompt("Username", err=True)
    password = click.prompt("Password", hide_input=True, err=True)
    return LoginRequest(host, user, password)


def login(request: LoginRequest) -> None:
    stored = store_login(request.registry, request.username, request.password)
    click.echo(f"Login succeeded for {request.registry} (saved in {stored})", err=True)
