"""`-i name=value` gives strings: type them by the image's schema, as the reference CLI does."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from cog.errors import RunError

_TRUE = {"true", "t", "yes", "y", "1", "on"}
_FALSE = {"false", "f", "no", "n", "0", "off"}


def input_properties(schema: Mapping[str, Any] | None, train: bool = False) -> dict[str, Any]:
    """The Input (or TrainingInput) properties of an OpenAPI document, refs resolved."""
    if not schema:
        return {}
    components = schema.get("components", {}).get("schemas", {})
    inputs = components.get("TrainingInput" if train else "Input", {})
    resolved = {}
    for name, prop in inputs.get("properties", {}).items():
        resolved[name] = _resolve(prop, components)
    return resolved


def _resolve(prop: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("allOf", "anyOf"):
        for option in prop.get(key, ()):
            ref = option.get("$ref", "")
            if ref.startswith("#/components/schemas/"):
                return {**components.get(ref.rsplit("/", 1)[1], {}), **prop}
            if "type" in option and option["type"] != "null":
                return {**option, **prop}
    return prop


def check_input_names(inputs: Mapping[str, Any], properties: Mapping[str, Any]) -> None:
    """Names the model does not take are a mistake on the command line, not data to drop
    (the reference's words: ``unknown input "x"; valid inputs are: a, b``)."""
    unknown = sorted(set(inputs) - set(properties))
    if unknown:
        valid = ", ".join(sorted(properties))
        suffix = f"valid inputs are: {valid}" if valid else "model does not accept inputs"
        named = ", ".join(f'"{name}"' for name in unknown)
        plural = "s" if len(unknown) > 1 else ""
        raise RunError(f"unknown input{plural} {named}; {suffix}", "Check them with `cog schema`.")


def check_required_inputs(
    inputs: Mapping[str, Any], schema: Mapping[str, Any] | None, train: bool = False
) -> None:
    """Every input without a default given, before a container starts for nothing."""
    components = (schema or {}).get("components", {}).get("schemas", {})
    component = components.get("TrainingInput" if train else "Input", {})
    missing = [name for name in component.get("required", ()) if name not in inputs]
    if not missing:
        return
    lines = [f'missing required input "{name}"' for name in missing]
    message = lines[0] if len(lines) == 1 else "input validation failed:\n- " + "\n- ".join(lines)
    raise RunError(message, "Pass it: -i NAME=VALUE (`cog schema` lists the inputs).")


def type_inputs(inputs: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """Strings from the command line converted to the JSON type each input declares."""
    return {name: _typed(name, value, properties.get(name, {})) for name, value in inputs.items()}


def _typed(name: str, value: Any, prop: Mapping[str, Any]) -> Any:
    kind = prop.get("type")
    if isinstance(value, list):
        items = prop.get("items", {}) if kind == "array" else prop
        return [_typed(name, item, items) for item in value]
    if not isinstance(value, str) or value.startswith("data:"):
        return value
    if kind == "array":
        return [_typed(name, value, prop.get("items", {}))]
    convert = _CONVERTERS.get(str(kind))
    if convert is None:
        return value
    try:
        return convert(value)
    except ValueError as exc:
        raise RunError(
            f"-i {name}={value}: expected {_DESCRIPTIONS[str(kind)]}",
            "Check the inputs with `cog schema`.",
        ) from exc


def _boolean(text: str) -> bool:
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError(text)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": _boolean,
    "object": json.loads,
}
_DESCRIPTIONS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a JSON object",
}
