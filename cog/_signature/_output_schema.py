"""The ``Output`` component of the OpenAPI document, and the named components it refers to.

As the reference writes it: the component is titled after its key (``Output``, or
``TrainingOutput`` for train); an output BaseModel or TypedDict is a component of its own,
named after its class and referenced with ``$ref`` (no title next to a ``$ref``), unless
the class has the component's own name (``class Output(BaseModel)``), which is inlined. A
model's fields with a default carry it and are not required. Union outputs are ``anyOf``;
``Optional`` ones are ``nullable``.
"""

from __future__ import annotations

from typing import Any

from cog._signature.model import FieldType, ModelSpec, OutputKind, Primitive, Signature

__all__ = ["REF", "output_schemas", "primitive_schema", "title_case"]

REF = "#/components/schemas/"

_JSON_TYPES = {
    Primitive.STRING: "string",
    Primitive.INTEGER: "integer",
    Primitive.FLOAT: "number",
    Primitive.BOOL: "boolean",
}


def title_case(name: str) -> str:
    """The reference's titles: "num_steps" becomes "Num Steps" (only first letters change)."""
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_"))


def primitive_schema(primitive: Primitive | None) -> dict[str, Any]:
    if primitive in (Primitive.PATH, Primitive.FILE):
        return {"type": "string", "format": "uri"}
    if primitive is Primitive.SECRET:
        return {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True}
    return {"type": _JSON_TYPES.get(primitive, "object") if primitive else "object"}


def output_schemas(
    sig: Signature, key: str, taken: set[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The output component (under ``key``) and the model components it refers to.

    ``taken`` names the document's other components: a model with one of those names
    (or ``key`` itself) is inlined rather than shadowing them.
    """
    builder = _Builder(taken | {key})
    output = sig.output
    element = builder.value(output.type)
    schema = element if output.kind is OutputKind.SINGLE else {"type": "array", "items": element}
    if output.kind in (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR):
        schema["x-cog-array-type"] = "iterator"
    if output.kind is OutputKind.CONCATENATE_ITERATOR:
        schema["x-cog-array-display"] = "concatenate"
    if "$ref" not in schema:
        schema["title"] = key
    return schema, builder.models


class _Builder:
    def __init__(self, taken: set[str]) -> None:
        self._taken = taken
        self.models: dict[str, Any] = {}

    def value(self, field: FieldType) -> dict[str, Any]:
        """An output value or a model's field."""
        if field.model is not None:
            schema = self._model(field.model)
        elif field.union:
            schema = {"anyOf": [self.value(v) for v in field.union]}
        else:
            schema = primitive_schema(field.primitive)
        if field.is_list:
            schema = {"type": "array", "items": schema}
        if field.nullable:
            schema["nullable"] = True
        return schema

    def _model(self, model: ModelSpec) -> dict[str, Any]:
        body = _model_body(model, self.value)
        if model.name in self._taken:
            return body
        self.models.setdefault(model.name, {"title": model.name, **body})
        return {"$ref": f"{REF}{model.name}"}


def _model_body(model: ModelSpec, value: Any) -> dict[str, Any]:
    defaults = dict(model.defaults)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, member in model.fields:
        prop: dict[str, Any] = value(member)
        if "$ref" not in prop:  # the reference drops a title next to a $ref
            prop["title"] = title_case(name)
        if defaults.get(name) is not None:
            prop["default"] = defaults[name]
        if not member.nullable and name not in defaults and name not in model.optional:
            required.append(name)
        properties[name] = prop
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
