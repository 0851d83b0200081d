"""Keys the reference's cog.yaml accepts that change nothing here.

Each is type-checked like any other key (so a typo in its value is still an error), then
reported once as a note saying why it has no effect. A project written for any generation
of the reference loads unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cog import _notes
from cog.config._values import Reader
from cog.config._yaml import YEntry, YNode

# Why each key does nothing here, by its full name.
WHY = {
    "build.fast": "images are already built from cached, content-addressed layers",
    "build.cog_runtime": "the image always serves with this project's runtime",
    "build.python_overrides": "pin the versions in requirements.txt instead; `cog lock` "
    "resolves them for the image's platform",
    "build.environment": "build.run commands see only the build's own environment; set "
    "runtime variables under the top-level environment:",
    "build.env": "build.run commands see only the build's own environment; set runtime "
    "variables under the top-level environment:",
    "tests": "it lists checks for the reference's `cog predict` test runner; run "
    "`cog predict -i ...` for each case",
    "model": "the entry point is read from run: (or predict:); the model reference for "
    "`cog push` comes from image: or the command line",
    "weights.name": "weights are named by their source path",
    "weights.remote": "only files inside the project are packed; download it into the "
    "project and name that path",
}

_EXAMPLES = {
    "build.fast": "build:\n  fast: true",
    "build.cog_runtime": "build:\n  cog_runtime: true",
    "build.python_overrides": "build:\n  python_overrides: overrides.txt",
    "build.environment": 'build:\n  environment:\n    - "NAME=value"',
    "build.env": 'build:\n  env:\n    - "NAME=value"',
    "tests": "tests:\n  - inputs:\n      prompt: hello",
}

INERT_BUILD_KEYS = ("fast", "cog_runtime", "python_overrides", "environment", "env")
INERT_TOP_KEYS = ("tests", "model")


def note(filename: str, line: int, key: str, why_key: str | None = None) -> str:
    return f"{filename}:{line}: {key} has no effect here: {WHY[why_key or key]}"


def check_inert(reader: Reader, entry: YEntry, where: str | None) -> str:
    """Type-check one inert key's value and return its note."""
    key = f"{where}.{entry.key}" if where else entry.key
    checks: dict[str, Callable[[YNode, str, str], object]] = {
        "build.fast": reader.boolean,
        "build.cog_runtime": reader.boolean,
        "build.python_overrides": reader.string,
        "build.environment": reader.string_list,
        "build.env": reader.string_list,
        "tests": _any,
        "model": _any,
    }
    checks[key](entry.value, key, _EXAMPLES.get(key, ""))
    return note(reader.filename, entry.line, key)


def _any(_node: YNode, _key: str, _example: str) -> None:
    return None


def print_notes(filename: str, path: Path, notes: tuple[str, ...]) -> None:
    """Each note on stderr once per process, however often the file is loaded."""
    for text in notes:
        # Not str.removeprefix: the runtime loads cog.yaml on the image's Python (3.8+).
        rest = text[len(filename) :] if text.startswith(filename) else text
        _notes.print_once(text, f"{path}{rest}")
