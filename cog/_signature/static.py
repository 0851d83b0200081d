"""Read a model's run/predict/train signature from its source, without importing it.

The user's dependencies (torch, transformers...) are not installed where ``cog`` runs, so
the model file is parsed with ``ast`` and names are followed through imports by hand:
into the project's own modules when the file exists, and otherwise only as far as the
module's name tells (``typing.Optional``, ``cog.Path``). What cannot be decided that way
raises ``StaticAnalysisUndecided`` so the caller can import the model instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from cog._sdk.input import INPUT_POSITIONAL
from cog._signature import _static_eval as _eval
from cog._signature import _static_outputs as _outputs
from cog._signature import _static_types as _types
from cog._signature._static_module import (
    Module,
    Site,
    StaticAnalysisUndecided,
    Undecided,
    load_module,
)
from cog._signature.model import MISSING, InputSpec, Mode, Primitive, Signature
from cog.errors import SchemaError

__all__ = ["StaticAnalysisUndecided", "signature_from_source"]


_DEFAULT_NAMES = ("Runner", "Predictor")
_RUNNER_BASES = {"cog.BaseRunner", "cog.BasePredictor"}
_INPUT_KEYWORDS = (*INPUT_POSITIONAL, "deprecated", "accept")


@dataclass(frozen=True)
class _Method:
    node: ast.FunctionDef | ast.AsyncFunctionDef
    module: Module
    owner: str  # the class (or function) name, for messages


def signature_from_source(project_dir: Path, ref: str, mode: Mode) -> Signature:
    """The interface of ``ref`` ("predict.py:Predictor", "train.py:train") in ``project_dir``."""
    file_part, _, name = ref.partition(":")
    if not file_part.endswith(".py"):
        raise SchemaError(
            f"'{ref}' is not a valid reference to a model",
            'Write it as FILE.py:NAME, for example run: "run.py:Runner" in cog.yaml.',
        )
    module = load_module(project_dir, Path(file_part))
    candidates = (name,) if name else _DEFAULT_NAMES
    found = next((d for d in map(module.lookup_definition, candidates) if d is not None), None)
    if found is None:
        wanted = " or ".join(f"'{c}'" for c in candidates)
        raise SchemaError(
            f"{module.display}: no class or function named {wanted}",
            f"Define {candidates[0]} in {module.display}, or point cog.yaml at the right "
            "FILE:NAME.",
        )
    owner_module, node = found
    warnings: list[str] = []
    if isinstance(node, ast.ClassDef):
        method = _entry_method(owner_module, node, mode, warnings)
        setup = _find_method(owner_module, node, ("setup",))
        takes_weights = _setup_takes_weights(setup) if setup else False
        is_class = True
    else:
        method = _Method(node, owner_module, node.name)
        takes_weights = False
        is_class = False
    return _signature_of(method, mode, is_class, takes_weights, warnings)


def _entry_method(module: Module, cls: ast.ClassDef, mode: Mode, warnings: list[str]) -> _Method:
    names = ("train",) if mode is Mode.TRAIN else ("run", "predict")
    if mode is Mode.PREDICT:
        run = _find_method(module, cls, ("run",))
        predict = _find_method(module, cls, ("predict",))
        if run and predict:
            raise SchemaError(
                f"{module.display}:{cls.lineno}: {cls.name} defines both run() and predict()",
                "Keep run() (predict() is the deprecated name) and delete the other.",
            )
        if predict:
            warnings.append(f"{cls.name}.predict() is deprecated; use run() instead")
    method = _find_method(module, cls, names)
    if method is None:
        wanted = " or ".join(f"{n}()" for n in names)
        raise SchemaError(
            f"{module.display}:{cls.lineno}: class {cls.name} has no {wanted} method",
            f"Add {wanted.split(' or ')[0]} to {cls.name}.",
        )
    if any(module.resolve(b) == "cog.BasePredictor" for b in cls.bases):
        warnings.append("BasePredictor is deprecated; use BaseRunner instead")
    return method


def _find_method(
    module: Module, cls: ast.ClassDef, names: tuple[str, ...], depth: int = 0
) -> _Method | None:
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name in names:
            return _Method(stmt, module, cls.name)
    if depth > 20:
        return None
    for base in cls.bases:
        local = module.lookup_class(base)
        if local is not None:
            found = _find_method(local[0], local[1], names, depth + 1)
            if found:
                return found
            continue
        qualified = module.resolve(base)
        if qualified in _RUNNER_BASES or qualified == "builtins.object":
            continue
        if qualified is None or not qualified.startswith("cog."):
            raise Undecided(
                f"{module.display}:{cls.lineno}: {cls.name} inherits from "
                f"'{ast.unparse(base)}', which cannot be read without importing it",
                "Cog will import the model to read its signature.",
            )
    return None


def _is_staticmethod(module: Module, node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(module.resolve(d) == "builtins.staticmethod" for d in node.decorator_list)


def _setup_takes_weights(setup: _Method) -> bool:
    args = setup.node.args
    prefix = f"{setup.module.display}:{setup.node.lineno}"
    fix = "setup() may take only self and an optional 'weights' argument."
    every = [*args.posonlyargs, *args.args]
    if not every or every[0].arg != "self" or _is_staticmethod(setup.module, setup.node):
        raise SchemaError(
            f"{prefix}: {setup.owner}.setup() must take 'self' as its first argument", fix
        )
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise SchemaError(
            f"{prefix}: {setup.owner}.setup() must not take *args, **kwargs or keyword-only "
            "arguments",
            fix,
        )
    params = every[1:]
    required = len(params) - len(args.defaults)
    for index, param in enumerate(params):
        if param.arg != "weights" and index < required:
            raise SchemaError(
                f"{setup.module.display}:{setup.node.lineno}: setup() takes an unexpected "
                f"argument '{param.arg}'",
                "setup() may take only self and an optional 'weights' argument.",
            )
    return any(p.arg == "weights" for p in params)


def _signature_of(
    method: _Method, mode: Mode, is_class: bool, takes_weights: bool, warnings: list[str]
) -> Signature:
    node, module = method.node, method.module
    where = f"{method.owner}.{node.name}()" if is_class else f"{node.name}()"
    args = node.args
    site = Site(module.display, node.lineno, where)
    if args.vararg:
        raise SchemaError(
            f"{site.prefix}: {where} must not take *args",
            "Declare every input as a plain parameter with a type annotation.",
        )
    # Keyword-only parameters are inputs too; **kwargs is not one (nothing is passed to it).
    params = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(params) - len(args.defaults))
    defaults.extend(args.defaults)
    params.extend(args.kwonlyargs)
    defaults.extend(args.kw_defaults)
    if is_class:
        if not params or params[0].arg != "self" or _is_staticmethod(module, node):
            raise SchemaError(
                f"{site.prefix}: {where} must take 'self' as its first argument",
                f"Define it as a plain method: 'def {node.name}(self, ...)'.",
            )
        params, defaults = params[1:], defaults[1:]
    inputs = tuple(
        _input_spec(module, site, param, default, warnings)
        for param, default in zip(params, defaults, strict=True)
    )
    output = _outputs.output_spec(module, site, node.returns)
    if _outputs.returns_any(module, site, node.returns):
        warnings.append(
            f"{where} return type: Any as output type is error-prone and highly discouraged"
        )
    streaming = any(_is_streaming(module, d) for d in node.decorator_list)
    if streaming and output.kind not in _types.ITERATOR_KINDS:
        raise SchemaError(
            f"{site.prefix}: {where} is decorated with @streaming but does not return an iterator",
            "Return Iterator[...], AsyncIterator[...], ConcatenateIterator[...] or "
            "AsyncConcatenateIterator[...], or remove @streaming.",
        )
    return Signature(
        mode=mode,
        inputs=inputs,
        output=output,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        streaming=streaming,
        setup_takes_weights=takes_weights,
        is_class=is_class,
        warnings=tuple(warnings),
    )


def _is_streaming(module: Module, decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return module.resolve(target) == "cog.streaming"


def _input_spec(
    module: Module, site: Site, param: ast.arg, default: ast.expr | None, warnings: list[str]
) -> InputSpec:
    at = site.at(param.lineno, param.arg)
    if param.annotation is None:
        raise SchemaError(
            f"{at.prefix}: parameter '{param.arg}' of {site.where} has no type annotation",
            f"Annotate it, for example `{param.arg}: str`.",
        )
    literal = _types.literal_input(module, at, param.annotation)
    field_type = literal[0] if literal else _types.input_type(module, at, param.annotation)
    values: dict[str, object] = {}
    if isinstance(default, ast.Call) and module.resolve(default.func) == "cog.Input":
        values = _input_call(module, at, default)
    elif default is not None:
        values["default"] = _eval.literal(module, at, default)
    if literal is not None:
        if values.get("choices") is not None:
            raise SchemaError(
                f"{at.prefix}: input '{param.arg}' is a Literal[...] and also has "
                "Input(choices=...)",
                "Keep the Literal values and drop choices=, or use str with choices=.",
            )
        values["choices"] = list(literal[1])
    accept = _eval.optional_str(at, values, "accept")
    if accept is not None and field_type.primitive not in (Primitive.PATH, Primitive.FILE):
        warnings.append(
            f"{site.where} input '{param.arg}': Input(accept=...) only means something for "
            "Path/File inputs"
        )
    spec = InputSpec(
        name=param.arg,
        type=field_type,
        default=_eval.normalize_default(at, field_type, values.get("default", MISSING)),
        description=_eval.optional_str(at, values, "description"),
        ge=_eval.optional_number(at, values, "ge"),
        le=_eval.optional_number(at, values, "le"),
        min_length=_eval.optional_int(at, values, "min_length"),
        max_length=_eval.optional_int(at, values, "max_length"),
        regex=_eval.optional_str(at, values, "regex"),
        choices=_eval.optional_choices(at, values),
        deprecated=_eval.optional_bool(at, values, "deprecated"),
        accept=accept,
    )
    _eval.check_constraints(at, spec)
    outside = [d for d in _eval.default_values(spec) if spec.choices and d not in spec.choices]
    if outside:
        # The same note introspection gives: the model builds, but every request that
        # leaves this input out is rejected.
        warnings.append(
            f"{site.where} input '{param.arg}': default {outside[0]!r} is not one of the "
            f"choices {list(spec.choices or ())!r}, so a request that leaves it out will be "
            "rejected"
        )
    return spec


def _input_call(module: Module, at: Site, call: ast.Call) -> dict[str, object]:
    values: dict[str, object] = {}
    if len(call.args) > len(INPUT_POSITIONAL):
        raise SchemaError(
            f"{at.prefix}: Input() for '{at.param}' takes at most {len(INPUT_POSITIONAL)} "
            "positional arguments",
            f"In order they are {', '.join(INPUT_POSITIONAL)}; pass the rest as keywords.",
        )
    for index, arg in enumerate(call.args):
        values[INPUT_POSITIONAL[index]] = _eval.literal(module, at, arg)
    for keyword in call.keywords:
        if keyword.arg not in _INPUT_KEYWORDS:
            raise SchemaError(
                f"{at.prefix}: Input() for '{at.param}' has an unknown keyword '{keyword.arg}'",
                f"Input() accepts: {', '.join(_INPUT_KEYWORDS)}.",
            )
        if keyword.arg in values:
            raise SchemaError(
                f"{at.prefix}: Input() for '{at.param}' is given '{keyword.arg}' twice",
                "Give it either by position or as a keyword.",
            )
        values[keyword.arg] = _eval.literal(module, at, keyword.value)
    return values
