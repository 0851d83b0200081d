"""The top-level sections of cog.yaml other than build: concurrency, environment, weights."""

from __future__ import annotations

import re
from pathlib import Path

from cog.config._inert import note
from cog.config._values import Reader, indent_example
from cog.config._yaml import YMap, YNode, YScalar, YSeq
from cog.config.spec import WeightsSource

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Variables the image's own paths, GPU setup or orchestrators depend on; the reference
# refuses the same names, so a cog.yaml that loads there loads here and vice versa.
RESERVED_ENV = (
    "PATH",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONUNBUFFERED",
    "LIBRARY_PATH",
    "HF_ENDPOINT",
    "HF_HUB_ENABLE_HF_TRANSFER",
)
RESERVED_ENV_PREFIXES = ("R8_", "REPLICATE_", "CUDA_", "NVIDIA_", "NV_", "PGET_", "KUBERNETES_")
CONCURRENCY_EXAMPLE = "concurrency:\n  max: 4"
ENVIRONMENT_EXAMPLE = 'environment:\n  - "HF_HOME=/src/hf"\n  - "LOG_LEVEL=info"'
WEIGHTS_EXAMPLE = (
    "weights:\n  - source: weights/model.safetensors\n    target: /src/weights/model.safetensors"
)


def read_concurrency(reader: Reader, node: YNode) -> int:
    mapping = reader.mapping(node, "concurrency", CONCURRENCY_EXAMPLE)
    reader.check_keys(mapping, ("max", "default_target"), "concurrency")
    if (target := mapping.get("default_target")) is not None:
        # Read by autoscalers, not by the server; validated so a typo does not go unnoticed.
        reader.integer(target.value, "concurrency.default_target", CONCURRENCY_EXAMPLE, 1)
    entry = mapping.get("max")
    if entry is None:
        raise reader.error(
            mapping.line,
            "concurrency has no max",
            f"Set the number of predictions to run at once, for example:\n"
            f"{indent_example(CONCURRENCY_EXAMPLE)}",
        )
    return reader.integer(entry.value, "concurrency.max", CONCURRENCY_EXAMPLE, 1)


def read_environment(reader: Reader, node: YNode) -> dict[str, str]:
    """The reference's list of "NAME=value" strings, or a NAME: value mapping."""
    if isinstance(node, YScalar) and node.value is None:
        return {}
    pairs: list[tuple[str, str, int]] = []
    if isinstance(node, YMap):
        for entry in node.entries:
            pairs.append((entry.key, _env_value(reader, entry.value, entry.key), entry.line))
    elif isinstance(node, YSeq):
        for index, item in enumerate(node.items):
            text = reader.string(item, f"environment[{index}]", ENVIRONMENT_EXAMPLE)
            name, sep, value = text.partition("=")
            if not sep:
                raise reader.error(
                    item.line,
                    f"environment[{index}]: '{text}' is not in the form NAME=value",
                    f"Write it as NAME=value, for example:\n{indent_example(ENVIRONMENT_EXAMPLE)}",
                )
            pairs.append((name, value, item.line))
    else:
        raise reader.wrong_type(
            node, "environment", 'a list of "NAME=value" strings', ENVIRONMENT_EXAMPLE
        )
    return _check_names(reader, pairs)


def _env_value(reader: Reader, node: YNode, name: str) -> str:
    # The text as written: "on" stays "on", 08 stays "08", 1.10 stays "1.10".
    if isinstance(node, YScalar) and node.value is not None:
        return node.raw
    raise reader.wrong_type(node, f"environment.{name}", "a string", f'environment:\n  {name}: ""')


def _check_names(reader: Reader, pairs: list[tuple[str, str, int]]) -> dict[str, str]:
    out: dict[str, str] = {}
    lines: dict[str, int] = {}
    for name, value, line in pairs:
        if not _ENV_NAME.match(name):
            raise reader.error(
                line,
                f"environment: '{name}' is not a valid variable name",
                "Use letters, digits and underscores, not starting with a digit "
                "(e.g. HF_HOME=/src/hf).",
            )
        if name in RESERVED_ENV or name.startswith(RESERVED_ENV_PREFIXES):
            raise reader.error(
                line,
                f"environment: {name} is reserved: the image sets it itself",
                "Remove it from cog.yaml. Reserved: "
                + ", ".join((*RESERVED_ENV, *(f"{p}*" for p in RESERVED_ENV_PREFIXES)))
                + ".",
            )
        if name in out:
            raise reader.error(
                line,
                f"environment: {name} is set twice (first on line {lines[name]})",
                f"Delete one of the two {name} entries.",
            )
        out[name] = value
        lines[name] = line
    return out


def read_weights(reader: Reader, node: YNode, project_dir: Path) -> tuple[WeightsSource, ...]:
    if isinstance(node, YScalar) and node.value is None:
        return ()
    if not isinstance(node, YSeq):
        raise reader.wrong_type(node, "weights", "a list of weights files", WEIGHTS_EXAMPLE)
    sources = []
    for index, item in enumerate(node.items):
        key = f"weights[{index}]"
        if isinstance(item, YMap):
            source = _weights_mapping(reader, item, key)
        else:
            source = WeightsSource(path=reader.string(item, key, WEIGHTS_EXAMPLE))
        if "://" in source.path:
            # The reference's `cog weights` fetches URLs (hf://, https://...) itself.
            reader.notes.append(
                note(reader.filename, item.line, f"{key} ({source.path})", "weights.remote")
            )
            continue
        if not (project_dir / source.path).exists():
            raise reader.error(
                item.line,
                f"{key}: {source.path} does not exist in {project_dir}",
                "Put the weights there, or fix the path (it is relative to the directory "
                "holding cog.yaml).",
            )
        sources.append(source)
    return tuple(sources)


def _weights_mapping(reader: Reader, node: YMap, key: str) -> WeightsSource:
    reader.check_keys(node, ("source", "path", "target", "name"), key)
    if (name := node.get("name")) is not None:
        reader.string(name.value, f"{key}.name", WEIGHTS_EXAMPLE)
        reader.notes.append(note(reader.filename, name.line, f"{key}.name", "weights.name"))
    entry = node.get("source") or node.get("path")
    if entry is None:
        raise reader.error(
            node.line,
            f"{key} has no source",
            f"Name the file or directory, for example:\n{indent_example(WEIGHTS_EXAMPLE)}",
        )
    path = reader.string(entry.value, f"{key}.{entry.key}", WEIGHTS_EXAMPLE)
    target = node.get("target")
    if target is None:
        return WeightsSource(path=path)
    return WeightsSource(
        path=path, target=reader.string(target.value, f"{key}.target", WEIGHTS_EXAMPLE)
    )
