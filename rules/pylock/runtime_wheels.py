"""The cog runtime's wheel set inside images (third_party/runtime.toml)."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass

from cog.third_party import data_file

RUNTIME_DATA = "runtime.toml"


@dataclass(frozen=True)
class RuntimeData:
    requirements: tuple[str, ...]
    model_requirements: tuple[str, ...]  # added to the model's set unless it names them
    cpu_variants: frozenset[str]
    requires_python: tuple[int, int]  # the oldest Python the runtime runs on
    requires_python_reason: str


def data_bytes() -> bytes:
    return data_file(RUNTIME_DATA).read_bytes()


@functools.cache
def runtime_data() -> RuntimeData:
    raw = tomllib.loads(data_bytes().decode())
    major, minor = str(raw["requires_python"]).split(".")
    return RuntimeData(
        requirements=tuple(raw["requirements"]),
        model_requirements=tuple(raw.get("model_requirements", ())),
        cpu_variants=frozenset(raw["cpu_variants"]),
        requires_python=(int(major), int(minor)),
        requires_python_reason=str(raw["requires_python_reason"]),
    )
