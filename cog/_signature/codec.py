"""Signature <-> JSON, for the fallback subprocess and for caching.

The JSON is plain data: enums by value, a missing default by the absence of the
``default`` key (``"default": null`` is a real None default), tuples as lists.
"""

from __future__ import annotations

from typing import Any

from cog._signature.model import (
    MISSING,
    FieldType,
    InputSpec,
    Mode,
    ModelSpec,
    OutputKind,
    OutputSpec,
    Primitive,
    Signature,
)

__all__ = ["signature_from_json", "signature_to_json"]

_CONSTRAINTS = (
    "description",
    "ge",
    "le",
    "min_length",
    "max_length",
    "regex",
    "deprecated",
    "accept",
)


def signature_to_json(sig: Signature) -> dict[str, Any]:
    return {
        "mode": sig.mode.value,
        "inputs": [_input_to_json(spec) for spec in sig.inputs],
        "output": {"type": _type_to_json(sig.output.type), "kind": sig.output.kind.value},
        "is_async": sig.is_async,
        "streaming": sig.streaming,
        "setup_takes_weights": sig.setup_takes_weights,
        "is_class": sig.is_class,
        "warnings": list(sig.warnings),
    }


def signature_from_json(data: dict[str, Any]) -> Signature:
    """The inverse of ``signature_to_json``; KeyError/ValueError/TypeError on bad data."""
    output = data["output"]
    return Signature(
        mode=Mode(data["mode"]),
        inputs=tuple(_input_from_json(item) for item in data["inputs"]),
        output=OutputSpec(_type_from_json(output["type"]), OutputKind(output["kind"])),
        is_async=_bool(data, "is_async"),
        streaming=_bool(data, "streaming"),
        setup_takes_weights=_bool(data, "setup_takes_weights"),
        is_class=_bool(data, "is_class", default=True),
        warnings=tuple(str(w) for w in data.get("warnings", ())),
    )


def _input_to_json(spec: InputSpec) -> dict[str, Any]:
    item: dict[str, Any] = {"name": spec.name, "type": _type_to_json(spec.type)}
    if spec.default is not MISSING:
        item["default"] = spec.default
    for key in _CONSTRAINTS:
        value = getattr(spec, key)
        if value is not None:
            item[key] = value
    if spec.choices is not None:
        item["choices"] = list(spec.choices)
    return item


def _input_from_json(item: dict[str, Any]) -> InputSpec:
    choices = item.get("choices")
    ge, le = item.get("ge"), item.get("le")
    return InputSpec(
        name=str(item["name"]),
        type=_type_from_json(item["type"]),
        default=item.get("default", MISSING),
        description=item.get("description"),
        ge=None if ge is None else float(ge),
        le=None if le is None else float(le),
        min_length=item.get("min_length"),
        max_length=item.get("max_length"),
        regex=item.get("regex"),
        choices=None if choices is None else tuple(choices),
        deprecated=item.get("deprecated"),
        accept=item.get("accept"),
    )


def _type_to_json(field: FieldType) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if field.primitive is not None:
        data["primitive"] = field.primitive.value
    if field.union:
        data["union"] = [_type_to_json(member) for member in field.union]
    if field.model is not None:
        model: dict[str, Any] = {
            "name": field.model.name,
            "fields": [[name, _type_to_json(t)] for name, t in field.model.fields],
        }
        if field.model.defaults:
            model["defaults"] = [[name, value] for name, value in field.model.defaults]
        if field.model.optional:
            model["optional"] = list(field.model.optional)
        data["model"] = model
    if field.is_list:
        data["is_list"] = True
    if field.nullable:
        data["nullable"] = True
    return data


def _type_from_json(data: dict[str, Any]) -> FieldType:
    model = data.get("model")
    return FieldType(
        primitive=Primitive(data["primitive"]) if "primitive" in data else None,
        union=tuple(_type_from_json(member) for member in data.get("union", ())),
        model=None
        if model is None
        else ModelSpec(
            str(model["name"]),
            tuple((str(name), _type_from_json(t)) for name, t in model["fields"]),
            tuple((str(name), value) for name, value in model.get("defaults", ())),
            tuple(str(name) for name in model.get("optional", ())),
        ),
        is_list=_bool(data, "is_list"),
        nullable=_bool(data, "nullable"),
    )


def _bool(data: dict[str, Any], key: str, *, default: bool = False) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise TypeError(f"{key} must be true or false, not {value!r}")
    return value
