"""The OpenAPI document the reference Cog serves at /openapi.json, from signatures.

Follows the reference's current generator (Cog 0.23, written in Go): OpenAPI 3.0.2,
``Input``/``Output`` components (``TrainingInput``/``TrainingOutput`` for train), one enum
component per input with choices (or a ``Literal[...]`` type), referenced with ``allOf``,
the fixed request, response, status and validation-error components, and the ``prefer``
header on the POST (the server reads ``Prefer: respond-async``). The output component and
the named components of output models are ``_output_schema``'s. When both predict and train are
given, the train document's paths and components are added to the predict document,
never replacing one of its own (as the reference merges them).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from cog._signature._output_schema import REF as _REF
from cog._signature._output_schema import output_schemas, primitive_schema, title_case
from cog._signature.model import MISSING, FieldType, InputSpec, Primitive, Signature

__all__ = ["openapi_document", "title_case"]

_VALIDATION_ERROR_RESPONSE = {
    "description": "Validation Error",
    "content": {"application/json": {"schema": {"$ref": f"{_REF}HTTPValidationError"}}},
}
_ANY_RESPONSE = {
    "description": "Successful Response",
    "content": {"application/json": {"schema": {}}},
}


@dataclass(frozen=True)
class _Names:
    endpoint: str
    request: str
    response: str
    cancel: str
    summary: str
    description: str
    operation: str
    cancel_operation: str
    cancel_param: str
    input: str
    output: str


_PREDICT = _Names(
    "/predictions",
    "PredictionRequest",
    "PredictionResponse",
    "/predictions/{prediction_id}/cancel",
    "Predict",
    "Run a single prediction on the model",
    "predict_predictions_post",
    "cancel_predictions__prediction_id__cancel_post",
    "prediction_id",
    "Input",
    "Output",
)
_TRAIN = _Names(
    "/trainings",
    "TrainingRequest",
    "TrainingResponse",
    "/trainings/{training_id}/cancel",
    "Train",
    "Run a single training on the model",
    "train_trainings_post",
    "cancel_trainings__training_id__cancel_post",
    "training_id",
    "TrainingInput",
    "TrainingOutput",
)


_COMPONENT_NAMES = frozenset(
    name
    for names in (_PREDICT, _TRAIN)
    for name in (names.input, names.output, names.request, names.response)
)


def openapi_document(predict: Signature | None, train: Signature | None) -> dict[str, Any]:
    """The whole /openapi.json document for a model with these entry points."""
    if predict is None and train is None:
        raise ValueError("openapi_document needs a predict or a train signature")
    if predict is None:
        assert train is not None
        return copy.deepcopy(_document(train, _TRAIN))
    document = _document(predict, _PREDICT)
    if train is not None:
        extra = _document(train, _TRAIN)
        for key, value in extra["paths"].items():
            document["paths"].setdefault(key, value)
        schemas = document["components"]["schemas"]
        for key, value in extra["components"]["schemas"].items():
            schemas.setdefault(key, value)
    # The fixed parts are shared module constants: hand out a copy the caller may change.
    return copy.deepcopy(document)


def _document(sig: Signature, names: _Names) -> dict[str, Any]:
    input_schema, enums = _input_schema(sig, names.input)
    # Both modes' names: a train model named "Output" must not shadow (or, merged, be
    # shadowed by) the predict document's own component.
    taken = {*_COMPONENT_NAMES, *enums, *_FIXED_SCHEMAS}
    output, models = output_schemas(sig, names.output, taken)
    schemas: dict[str, Any] = {names.input: input_schema, names.output: output}
    schemas.update(enums)
    schemas[names.request] = {
        "title": names.request,
        "type": "object",
        "properties": {
            "id": {"title": "Id", "type": "string"},
            "input": {"$ref": f"{_REF}{names.input}"},
        },
    }
    schemas[names.response] = _response_schema(names)
    schemas.update(_FIXED_SCHEMAS)
    schemas.update(models)
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": "0.1.0"},
        "paths": _paths(sig, names),
        "components": {"schemas": schemas},
    }


def _response_schema(names: _Names) -> dict[str, Any]:
    def text(title: str, **extra: str) -> dict[str, str]:
        return {"title": title, "type": "string", **extra}

    return {
        "title": names.response,
        "type": "object",
        "properties": {
            "input": {"$ref": f"{_REF}{names.input}"},
            "output": {"$ref": f"{_REF}{names.output}"},
            "id": text("Id"),
            "version": text("Version"),
            "created_at": text("Created At", format="date-time"),
            "started_at": text("Started At", format="date-time"),
            "completed_at": text("Completed At", format="date-time"),
            "status": text("Status"),
            "error": text("Error"),
            "logs": text("Logs"),
            "metrics": {"title": "Metrics", "type": "object"},
        },
    }


_FIXED_SCHEMAS: dict[str, Any] = {
    "Status": {
        "title": "Status",
        "description": "An enumeration.",
        "enum": ["starting", "processing", "succeeded", "canceled", "failed"],
        "type": "string",
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": f"{_REF}ValidationError"},
            }
        },
    },
    "ValidationError": {
        "title": "ValidationError",
        "required": ["loc", "msg", "type"],
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
        },
    },
}


def _paths(sig: Signature, names: _Names) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": names.summary,
        "description": names.description,
        "operationId": names.operation,
        # The reference's server reads `Prefer: respond-async` from this header.
        "parameters": [
            {
                "required": False,
                "schema": {"title": "Prefer", "type": "string"},
                "name": "prefer",
                "in": "header",
            }
        ],
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": f"{_REF}{names.request}"}}}
        },
        "responses": {
            "200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {"$ref": f"{_REF}{names.response}"}}},
            },
            "422": _VALIDATION_ERROR_RESPONSE,
        },
    }
    if sig.streaming and names is _PREDICT:
        # The reference's server (coglet 0.23) accepts text/event-stream only when the
        # operation carries this flag; on the path item alone it answers 406.
        operation["x-cog-streaming"] = True
    cancel = {
        "post": {
            "summary": "Cancel",
            "operationId": names.cancel_operation,
            "parameters": [
                {
                    "required": True,
                    "schema": {"title": title_case(names.cancel_param), "type": "string"},
                    "name": names.cancel_param,
                    "in": "path",
                }
            ],
            "responses": {"200": _ANY_RESPONSE, "422": _VALIDATION_ERROR_RESPONSE},
        }
    }
    return {
        "/": {
            "get": {
                "summary": "Root",
                "operationId": "root__get",
                "responses": {"200": _ANY_RESPONSE},
            }
        },
        "/health-check": {
            "get": {
                "summary": "Healthcheck",
                "operationId": "healthcheck_health_check_get",
                "responses": {"200": _ANY_RESPONSE},
            }
        },
        names.endpoint: {"post": operation},
        names.cancel: cancel,
    }


def _input_schema(sig: Signature, title: str) -> tuple[dict[str, Any], dict[str, Any]]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    enums: dict[str, Any] = {}
    for order, spec in enumerate(sig.inputs):
        prop: dict[str, Any] = {"x-order": order}
        if spec.choices:
            enums[spec.name] = {
                "title": spec.name,
                "description": "An enumeration.",
                "enum": list(spec.choices),
                "type": primitive_schema(spec.type.primitive)["type"],
            }
            prop["allOf"] = [{"$ref": f"{_REF}{spec.name}"}]
        else:
            prop["title"] = title_case(spec.name)
            prop.update(_input_type_schema(spec.type))
        if _required(spec):
            required.append(spec.name)
        prop.update(_input_extras(spec))
        properties[spec.name] = prop
    schema: dict[str, Any] = {"title": title, "type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, enums


def _nullable(spec: InputSpec) -> bool:
    # `api_key: Secret = Input(default=None)` is the reference's one exception to "a None
    # default on a non-Optional type is no default": it means an optional credential.
    secret_none = spec.type.primitive is Primitive.SECRET and spec.default is None
    return spec.type.nullable or (secret_none and not spec.type.is_list)


def _effective_default(spec: InputSpec) -> bool:
    # A None default is never written: the reference writes "default" only for a value.
    return spec.default is not MISSING and spec.default is not None


def _required(spec: InputSpec) -> bool:
    # Any default, None included, makes an input optional (`extra: File = Input(default=None)`
    # as published models write it): the reference's schema lists it optional, and the
    # validator lets it be left out.
    if spec.default is not MISSING:
        return False
    return bool(spec.type.union) or not spec.type.nullable


def _input_extras(spec: InputSpec) -> dict[str, Any]:
    extras: dict[str, Any] = {}
    if _effective_default(spec):
        extras["default"] = spec.default
    if _nullable(spec):
        extras["nullable"] = True
    if spec.description is not None:
        extras["description"] = spec.description
    if spec.ge is not None:
        extras["minimum"] = _number(spec.ge)
    if spec.le is not None:
        extras["maximum"] = _number(spec.le)
    if spec.min_length is not None:
        extras["minLength"] = spec.min_length
    if spec.max_length is not None:
        extras["maxLength"] = spec.max_length
    if spec.regex is not None:
        extras["pattern"] = spec.regex
    if spec.deprecated:
        extras["deprecated"] = True
    if spec.accept is not None:
        extras["x-cog-accept"] = spec.accept
    return extras


def _input_type_schema(field: FieldType) -> dict[str, Any]:
    if field.union:
        variants = []
        for variant in field.union:
            schema = _input_type_schema(variant)
            if field.nullable:
                schema["nullable"] = True
            variants.append(schema)
        return {"anyOf": variants}
    assert field.primitive is not None
    schema = primitive_schema(field.primitive)
    if field.is_list:
        return {"type": "array", "items": schema}
    return schema


def _number(value: float) -> int | float:
    """1.0 as 1, as the reference (which holds bounds as float64) writes it."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value
