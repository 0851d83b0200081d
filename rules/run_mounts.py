"""BuildKit's ``RUN --mount=…`` prefixes, as Cog users write them at the start of a
``build.run`` command (the reference pastes the command into a Dockerfile ``RUN``).

``--mount=type=cache,target=/root/.cache/pip pip install x`` keeps /root/.cache/pip in
cog's cache between builds and out of every layer; ``--mount=type=secret,id=tok,target=…``
binds the secret given with ``cog build --secret``; ``--mount=type=tmpfs,target=…`` an
empty directory for the command alone. Bind and ssh mounts need a Docker build context or
agent that a hermetic build does not have, and are refused with a hint.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from cog.errors import BuildError

_PREFIX = re.compile(r"^\s*--mount(?:=|\s+)(\S+)\s*")
SUPPORTED = ("cache", "secret", "tmpfs")
# Options BuildKit accepts for the supported types that change nothing here.
_IGNORED = {"sharing", "mode", "uid", "gid", "required", "readonly", "ro", "rw", "size"}


@dataclass(frozen=True)
class Mounts:
    command: str  # the shell command, without its --mount prefixes
    secrets: tuple[tuple[str, str], ...] = ()  # (id, target)
    caches: tuple[tuple[str, str], ...] = ()  # (id, target)
    tmpfs: tuple[str, ...] = ()


def _options(spec: str, command: str) -> dict[str, str]:
    options: dict[str, str] = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        key = {"dst": "target", "destination": "target", "src": "source"}.get(key, key)
        options[key.strip()] = value.strip()
    if options.get("type", "bind") not in SUPPORTED:
        kind = options.get("type", "bind")
        raise BuildError(
            f"build.run command {command!r}: --mount type {kind!r} is not supported",
            "Use type=cache, type=secret or type=tmpfs. There is no build context to bind: "
            "the project's files are in /src only at run time; pass credentials as a secret "
            "(--mount=type=secret,id=ID and cog build --secret id=ID,src=FILE).",
        )
    unknown = set(options) - {"type", "target", "id", "source", "from", "env"} - _IGNORED
    if unknown:
        raise BuildError(
            f"build.run command {command!r}: unknown --mount option {', '.join(sorted(unknown))!r}",
            "Write it as BuildKit does, e.g. --mount=type=cache,target=/root/.cache/pip",
        )
    return options


def parse_command(command: str) -> Mounts:
    """Split the ``--mount=`` prefixes off ``command``; errors name the command."""
    rest = command
    secrets: list[tuple[str, str]] = []
    caches: list[tuple[str, str]] = []
    tmpfs: list[str] = []
    while match := _PREFIX.match(rest):
        options = _options(shlex.split(match[1])[0] if match[1] else "", command)
        rest = rest[match.end() :]
        kind, target = options.get("type", "bind"), options.get("target", "")
        if kind == "secret":
            secret_id = options.get("id") or target.rsplit("/", 1)[-1]
            secrets.append((secret_id, target or f"/run/secrets/{secret_id}"))
            continue
        if not target.startswith("/"):
            raise BuildError(
                f"build.run command {command!r}: a type={kind} mount needs an absolute target",
                f"Write it as --mount=type={kind},target=/root/.cache/pip",
            )
        if kind == "cache":
            caches.append((options.get("id") or target, target))
        else:
            tmpfs.append(target)
    if not rest.strip():
        raise BuildError(
            f"build.run command {command!r} has only --mount options and no command",
            "Write the command after them: --mount=type=cache,target=/root/.cache/pip "
            "pip install -r requirements.txt",
        )
    return Mounts(rest, tuple(secrets), tuple(caches), tuple(tmpfs))
