"""The build: section of cog.yaml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cog.config._inert import INERT_BUILD_KEYS, check_inert
from cog.config._values import Reader, describe, indent_example
from cog.config._yaml import YEntry, YMap, YNode, YScalar, YSeq
from cog.config.spec import BuildConfig, RunCommand, SecretMount

BUILD_KEYS = (
    "python_version",
    "python_packages",
    "python_requirements",
    "system_packages",
    "gpu",
    "cuda",
    "run",
    "base_image",
    "cudnn",
    "pre_install",
    "sdk_version",
    *INERT_BUILD_KEYS,
)
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
# Debian package names (policy 5.6.1), optionally with :arch and =version.
_DEB_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+(:[a-z0-9\-]+)?(=\S+)?$")

EXAMPLES = {
    "python_version": 'build:\n  python_version: "3.13"',
    "python_packages": 'build:\n  python_packages:\n    - "torch==2.6.0"',
    "python_requirements": "build:\n  python_requirements: requirements.txt",
    "system_packages": 'build:\n  system_packages:\n    - "ffmpeg"',
    "gpu": "build:\n  gpu: true",
    "cuda": 'build:\n  cuda: "12.4"',
    "run": 'build:\n  run:\n    - "echo ready"',
    "base_image": 'build:\n  base_image: "my-registry.example:5000/python:3.13"',
    "cudnn": 'build:\n  cudnn: "9"',
    "pre_install": 'build:\n  pre_install:\n    - "echo before packages"',
    "sdk_version": 'build:\n  sdk_version: "0.16.0"',
}
_MOUNT_EXAMPLE = (
    "build:\n  run:\n    - command: pip install -r extra.txt\n      mounts:\n"
    "        - type: secret\n          id: pip\n          target: /etc/pip.conf"
)


def read_build(reader: Reader, node: YMap, project_dir: Path) -> BuildConfig:
    reader.check_keys(node, BUILD_KEYS, "build")
    values: dict[str, Any] = {}
    for entry in node.entries:
        if isinstance(entry.value, YScalar) and entry.value.value is None:
            continue  # "key:" with nothing after it: the default
        if entry.key in INERT_BUILD_KEYS:
            reader.notes.append(check_inert(reader, entry, "build"))
            continue
        values[entry.key] = _read_key(reader, entry)
    packages, requirements = node.get("python_packages"), node.get("python_requirements")
    if values.get("python_packages") and "python_requirements" in values:
        assert packages is not None
        assert requirements is not None
        raise reader.error(
            requirements.line,
            f"build.python_packages (line {packages.line}) and build.python_requirements "
            f"(line {requirements.line}) are both set; cog.yaml may set only one",
            "Keep python_requirements (it also takes options like --extra-index-url): move "
            "the python_packages entries into that file and delete python_packages.",
        )
    if requirements is not None and "python_requirements" in values:
        _check_requirements_file(reader, requirements, values["python_requirements"], project_dir)
    version_entry = node.get("python_version")
    if version_entry is not None and "python_version" in values and "base_image" not in values:
        _check_python_supported(reader, version_entry, values["python_version"])
    return BuildConfig(**values)


def _check_python_supported(reader: Reader, entry: YEntry, version: str) -> None:
    """A minor version cog cannot build is refused here, with its line; whether an exact
    patch version exists is known only to `cog lock`."""
    from cog.rules import python_standalone  # noqa: PLC0415  (third_party tables)

    supported = python_standalone.every_supported_minor()
    if python_standalone.minor_of(version) not in supported:
        message, hint = python_standalone.unsupported_message(version, supported)
        raise reader.error(entry.value.line, f"build.{message}", hint)


def _read_key(reader: Reader, entry: YEntry) -> object:
    key, example, value = f"build.{entry.key}", EXAMPLES[entry.key], entry.value
    if entry.key in ("python_version", "cuda", "cudnn", "sdk_version"):
        return read_version(reader, value, key, example, major_only=entry.key == "cudnn")
    if entry.key in ("python_packages", "pre_install"):
        return reader.string_list(value, key, example)
    if entry.key == "system_packages":
        return _system_packages(reader, value)
    if entry.key == "gpu":
        return reader.boolean(value, key, example)
    if entry.key == "run":
        return _run_commands(reader, value)
    return reader.string(value, key, example)


def read_version(reader: Reader, node: YNode, key: str, example: str, *, major_only: bool) -> str:
    # An unquoted 3.10 is the float 3.1 to YAML: the raw text is what the user meant.
    if isinstance(node, YScalar) and not isinstance(node.value, (bool, type(None))):
        text = node.raw.strip()
        if _VERSION.match(text) or (major_only and text.isdigit()):
            return text
    what = (
        'a version like "3.13" or "3.13.1"'
        if key.endswith("python_version")
        else ('a version like "12.4"')
    )
    raise reader.error(
        node.line,
        f"{key} must be {what}, got {describe(node)}",
        f"Write the version in quotes, for example:\n{indent_example(example)}",
    )


def _system_packages(reader: Reader, node: YNode) -> tuple[str, ...]:
    names = reader.string_list(node, "build.system_packages", EXAMPLES["system_packages"])
    assert isinstance(node, YSeq)
    for index, name in enumerate(names):
        if not _DEB_NAME.match(name):
            raise reader.error(
                node.items[index].line,
                f"build.system_packages[{index}]: '{name}' is not a Debian package name",
                "Write one package per list entry, lower case, optionally with =version "
                f"(e.g. libgl1 or ffmpeg=7:5.1.6-0+deb12u1), for example:\n"
                f"{indent_example(EXAMPLES['system_packages'])}",
            )
    return names


def _run_commands(reader: Reader, node: YNode) -> tuple[RunCommand, ...]:
    if not isinstance(node, YSeq):
        raise reader.wrong_type(node, "build.run", "a list of commands", EXAMPLES["run"])
    commands = []
    for index, item in enumerate(node.items):
        key = f"build.run[{index}]"
        if isinstance(item, YMap):
            commands.append(_run_mapping(reader, item, key))
        else:
            command = reader.string(item, key, EXAMPLES["run"] + "\n" + _MOUNT_EXAMPLE)
            commands.append(RunCommand(command=command))
    return tuple(commands)


def _run_mapping(reader: Reader, node: YMap, key: str) -> RunCommand:
    reader.check_keys(node, ("command", "mounts"), key)
    command = node.get("command")
    if command is None:
        raise reader.error(
            node.line,
            f"{key} has no command",
            f"Add the command to run, for example:\n{indent_example(_MOUNT_EXAMPLE)}",
        )
    text = reader.string(command.value, f"{key}.command", _MOUNT_EXAMPLE)
    mounts = node.get("mounts")
    if mounts is None or (isinstance(mounts.value, YScalar) and mounts.value.value is None):
        return RunCommand(command=text)
    if not isinstance(mounts.value, YSeq):
        raise reader.wrong_type(mounts.value, f"{key}.mounts", "a list of mounts", _MOUNT_EXAMPLE)
    return RunCommand(
        command=text,
        mounts=tuple(
            _mount(reader, item, f"{key}.mounts[{index}]")
            for index, item in enumerate(mounts.value.items)
        ),
    )


def _mount(reader: Reader, node: YNode, key: str) -> SecretMount:
    mapping = reader.mapping(node, key, _MOUNT_EXAMPLE)
    reader.check_keys(mapping, ("type", "id", "target"), key)
    fields: dict[str, str] = {}
    for name in ("type", "id", "target"):
        entry = mapping.get(name)
        if entry is None:
            raise reader.error(
                mapping.line,
                f"{key} has no {name}",
                f"A mount needs type: secret, an id and a target, for example:\n"
                f"{indent_example(_MOUNT_EXAMPLE)}",
            )
        fields[name] = reader.string(entry.value, f"{key}.{name}", _MOUNT_EXAMPLE)
    if fields["type"] != "secret":
        entry = mapping.get("type")
        assert entry is not None
        raise reader.error(
            entry.value.line,
            f"{key}.type must be 'secret', got '{fields['type']}'",
            "Only secret mounts are supported: type: secret, with the id passed to "
            "`cog build --secret id=<id>,src=<file>`.",
        )
    return SecretMount(id=fields["id"], target=fields["target"])


def _check_requirements_file(reader: Reader, entry: YEntry, name: str, project_dir: Path) -> None:
    path = project_dir / name
    if path.is_file():
        return
    why = "is a directory" if path.is_dir() else "does not exist"
    raise reader.error(
        entry.value.line,
        f"build.python_requirements: {name} {why} in {project_dir}",
        f"Create {name} with one requirement per line (e.g. torch==2.6.0), or fix the path "
        "(it is relative to the directory holding cog.yaml).",
    )
