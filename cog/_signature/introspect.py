"""Read a Signature from an imported model: a runner/predictor/trainer class or a function.

``load_entrypoint`` imports ``"run.py:Runner"``-style references, ``signature_of`` reads the
interface (legacy BasePredictor/predict() still work, with a note in ``warnings``), and
``entry_method`` gives the runtime the callable to invoke.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cog._compat import type_hints
from cog._sdk.inputspec import input_spec
from cog._sdk.outputmap import output_spec
from cog._sdk.runner import STREAMING_ATTR, BasePredictor, BaseRunner, user_method_owner
from cog._signature.model import MISSING, InputSpec, Mode, OutputKind, Signature
from cog.errors import SchemaError

__all__ = ["entry_method", "load_entrypoint", "signature_of"]

_DEFAULT_NAMES = ("Runner", "Predictor")


def load_entrypoint(project_dir: Path, ref: str) -> object:
    """Import ``file.py:Name`` (file relative to ``project_dir``) and return ``Name``.

    Without ``:Name`` the module's ``Runner`` (else its legacy ``Predictor``) is used.
    Errors raised while the module itself runs propagate unchanged, with their traceback.
    """
    file_part, _, name = ref.partition(":")
    path = (project_dir / file_part).absolute()
    if not file_part.endswith(".py") or not path.is_file():
        raise SchemaError(
            f"cannot load {ref!r}: {path} is not a Python file",
            "Point run:/predict:/train: in cog.yaml at a .py file in the project, "
            "e.g. run: 'run.py:Runner'.",
        )
    root = str(project_dir.resolve())
    if root not in sys.path:
        sys.path.insert(0, root)
    module_name = Path(file_part).stem
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise SchemaError(f"cannot load {ref!r}: {path} is not importable", None)
    module = importlib.util.module_from_spec(spec)
    # Registered before running it, so pickle and dataclasses can find the module.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    candidates = (name,) if name else _DEFAULT_NAMES
    for candidate in candidates:
        if hasattr(module, candidate):
            return typing.cast(object, getattr(module, candidate))
    wanted = " or ".join(repr(c) for c in candidates)
    raise SchemaError(
        f"{file_part} has no {wanted}",
        f"Define {candidates[0]} in {file_part}, or change the reference {ref!r} in cog.yaml "
        "to name the class or function that is there.",
    )


def signature_of(obj: object, mode: Mode) -> Signature:
    """The interface of a class (its run/predict or train method) or of a function."""
    target = obj if inspect.isclass(obj) or inspect.isfunction(obj) else type(obj)
    warnings: list[str] = []
    if inspect.isclass(target):
        method, label = _class_entry(target, mode, warnings)
        setup_takes_weights = _check_setup(target)
        is_class = True
    else:
        assert inspect.isfunction(target)
        method, label = target, target.__qualname__
        setup_takes_weights = False
        is_class = False
    function = inspect.unwrap(method)
    where = f"{label}()"
    inputs = _inputs(function, is_class, where, warnings)
    hints = _hints(function, where)
    returned = hints.get("return")
    if returned is None or returned is type(None):
        raise SchemaError(
            f"{where} must have a return type annotation",
            f"Annotate what it returns, e.g. 'def {function.__name__}(...) -> str:'.",
        )
    output = output_spec(returned, f"{where} return type", warnings)
    streaming = bool(
        getattr(method, STREAMING_ATTR, False) or getattr(function, STREAMING_ATTR, False)
    )
    if streaming and output.kind not in (OutputKind.ITERATOR, OutputKind.CONCATENATE_ITERATOR):
        raise SchemaError(
            f"{where} is marked @streaming but does not return an iterator",
            "Return Iterator[T], AsyncIterator[T], ConcatenateIterator[str] or "
            "AsyncConcatenateIterator[str], or remove @streaming.",
        )
    return Signature(
        mode=mode,
        inputs=inputs,
        output=output,
        is_async=inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function),
        streaming=streaming,
        setup_takes_weights=setup_takes_weights,
        is_class=is_class,
        warnings=tuple(warnings),
    )


def entry_method(target: object, mode: Mode) -> Callable[..., Any]:
    """The callable the runtime invokes: a bound run/predict/train, or the function itself."""
    if inspect.isfunction(target):
        return target
    if mode is Mode.TRAIN:
        return typing.cast("Callable[..., Any]", target.train)  # type: ignore[attr-defined]
    cls = type(target)
    if user_method_owner(cls, "run") is None and user_method_owner(cls, "predict") is not None:
        return typing.cast("Callable[..., Any]", target.predict)  # type: ignore[attr-defined]
    return typing.cast("Callable[..., Any]", target.run)  # type: ignore[attr-defined]


def _class_entry(cls: type, mode: Mode, warnings: list[str]) -> tuple[Callable[..., Any], str]:
    name = cls.__qualname__
    if mode is Mode.TRAIN:
        train = getattr(cls, "train", None)
        if not callable(train):
            raise SchemaError(
                f"{name} has no train() method",
                "Define 'def train(self, ...) -> ...:' on the class, or point train: in "
                "cog.yaml at a train function.",
            )
        return train, f"{name}.train"
    defines_run = user_method_owner(cls, "run") is not None
    defines_predict = user_method_owner(cls, "predict") is not None
    if defines_run and defines_predict:
        raise SchemaError(
            f"{name} must define either run() or predict(), not both",
            "Keep run() (predict() is the deprecated name) and delete predict().",
        )
    if not defines_run and not defines_predict:
        raise SchemaError(
            f"run or predict method not found: {name}",
            f"Define 'def run(self, ...) -> ...:' on {name}.",
        )
    if defines_predict:
        warnings.append(f"{name}.predict() is deprecated; use run() instead")
    if any(base is BasePredictor for base in inspect.getmro(cls)[1:]):
        warnings.append("BasePredictor is deprecated; use BaseRunner instead")
    if defines_predict:
        return typing.cast("Callable[..., Any]", cls.predict), f"{name}.predict"  # type: ignore[attr-defined]
    return typing.cast("Callable[..., Any]", cls.run), f"{name}.run"  # type: ignore[attr-defined]


def _check_setup(cls: type) -> bool:
    """Validate setup() as the reference does; True when it takes ``weights``."""
    setup = getattr(cls, "setup", None)
    if setup is None or setup is BaseRunner.setup:
        # The SDK's own no-op setup accepts weights but has no use for them.
        return False
    where = f"{cls.__qualname__}.setup()"
    function = inspect.unwrap(setup)
    if not inspect.isfunction(function):
        raise SchemaError(f"{where} is not a function", "Define setup as a method.")
    params = list(inspect.signature(function).parameters.values())
    fix = "setup() may take only self and an optional 'weights' argument."
    if not params or params[0].name != "self":
        raise SchemaError(f"{where} must have 'self' as first argument", fix)
    for param in params[1:]:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.KEYWORD_ONLY):
            raise SchemaError(f"{where} must not have *args, **kwargs or keyword-only args", fix)
        if param.name != "weights" and param.default is param.empty:
            raise SchemaError(f"{where} has unexpected argument {param.name!r}", fix)
    return any(p.name == "weights" for p in params[1:])


def _hints(function: Callable[..., Any], where: str) -> dict[str, Any]:
    try:
        return type_hints(function)
    except (NameError, TypeError) as error:
        raise SchemaError(
            f"{where}: cannot resolve a type annotation: {error}",
            "Import every type the signature names, at module level.",
        ) from None


def _inputs(
    function: Callable[..., Any], is_class: bool, where: str, warnings: list[str]
) -> tuple[InputSpec, ...]:
    params = list(inspect.signature(function).parameters.values())
    if is_class:
        if not params or params[0].name != "self":
            raise SchemaError(f"{where} must have 'self' as first argument", "Add self.")
        params = params[1:]
    hints = _hints(function, where)
    specs = []
    for param in params:
        if param.kind is param.VAR_KEYWORD:
            continue  # **kwargs: not an input (unknown fields are never passed on)
        if param.kind is param.VAR_POSITIONAL:
            raise SchemaError(
                f"{where} input {param.name!r}: *args parameters are not supported",
                "Declare each input as a named parameter with a type annotation.",
            )
        if param.name not in hints:
            raise SchemaError(
                f"{where} input {param.name!r} has no type annotation",
                f"Annotate it, e.g. '{param.name}: str = Input(description=...)'.",
            )
        default = MISSING if param.default is param.empty else param.default
        specs.append(input_spec(param.name, hints[param.name], default, where, warnings))
    return tuple(specs)
