"""Turning uv's resolution failures into errors that say what to change."""

from __future__ import annotations

import re

from cog.errors import LockError
from cog.rules.pylock.index_config import IndexConfig

_NOT_FOUND = re.compile(r"Because (\S+) was not found in the package registry")
_NO_WHEEL = re.compile(
    r"Because (\S+?)(?:==\S+)? has no (?:usable wheels|wheels with a matching platform tag)"
)
_FETCH = re.compile(r"Failed to fetch: `?(\S+?)`?\s*$", re.MULTILINE)
_PANIC = re.compile(r"panicked at|RUST_BACKTRACE")


class ResolutionError(LockError):
    """uv ran and answered: no set of versions satisfies the requirements for the target.

    Any other LockError from uv (it could not start, crashed, or could not reach an
    index) says uv itself failed: retrying with other constraints cannot help.
    """


def _index_summary(index: IndexConfig) -> str:
    parts = [f"{url} ({index.origin_of(url)})" for url in index.indexes()]
    parts += [f"{loc} ({index.origin_of(loc)})" for loc in index.find_links]
    if index.index_url is None:
        parts.insert(0, "uv's default index")
    return "; ".join(parts)


def _failing_setting(url: str, index: IndexConfig) -> tuple[str, str] | None:
    for configured in (*index.indexes(), *index.find_links):
        if url.startswith(configured.rstrip("/")):
            return configured, index.origin_of(configured)
    return None


def explain_uv_failure(
    stderr: str, target: str, index: IndexConfig, *, returncode: int = 1
) -> LockError:
    text = stderr.strip()
    if returncode < 0 or _PANIC.search(text):
        how = f"was killed by signal {-returncode}" if returncode < 0 else "crashed"
        return LockError(
            f"uv {how} while resolving the Python requirements for {target}:\n{text}",
            hint="Run the lock again; if it keeps failing, point COG_UV at another uv "
            "(cog doctor shows which uv cog uses).",
        )
    if m := _FETCH.search(text):
        found = _failing_setting(m[1], index)
        where = f" ({found[1]})" if found else ""
        configured = found[0] if found else m[1]
        return LockError(
            f"cannot reach the package index {configured}{where}:\n{text}",
            hint="Fix or remove that setting (pip.conf / PIP_INDEX_URL / PIP_EXTRA_INDEX_URL "
            "/ uv.toml / UV_INDEX_URL), or check the network.",
        )
    if m := _NOT_FOUND.search(text):
        return ResolutionError(
            f"unknown Python package {m[1]!r}: no configured index has it",
            hint=f"Check the name in cog.yaml; indexes searched: {_index_summary(index)}.",
        )
    if m := _NO_WHEEL.search(text):
        return ResolutionError(
            f"{m[1]} has no wheel for {target}:\n{text}",
            hint="It has neither a wheel for this platform nor an sdist cog could build "
            "from. Pin a version that ships one, or build it yourself in a build.run step "
            "of cog.yaml.",
        )
    if "No solution found" in text:
        return ResolutionError(
            f"the Python requirements conflict for {target}:\n{text}",
            hint="Loosen or change the pins named above in cog.yaml "
            "(python_packages or the python_requirements file).",
        )
    return LockError(f"uv could not resolve the Python requirements for {target}:\n{text}")
