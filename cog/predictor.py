"""The reference SDK's ``cog.predictor``: load a model from cog.yaml or a ref, run its setup().

For code written against the reference (tests, notebooks, wrappers) that drives a model
by hand: the same names and signatures as the reference's ``python/cog/predictor.py``.
The runtime itself does not use them. Not here: the reference's pydantic helpers
(``BaseInput``, ``get_input_type``, ``get_output_type``...); this SDK builds no pydantic
models, ``cog schema`` gives the same schema.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from cog._compat import UNION_ORIGINS
from cog._sdk.runner import BasePredictor, user_method_owner
from cog._sdk.value_types import File, Path, Secret
from cog.errors import ConfigDoesNotExist, PredictorNotSet

__all__ = [
    "ALLOWED_INPUT_TYPES",
    "BasePredictor",
    "get_predict",
    "get_predictor",
    "get_predictor_ref",
    "get_train",
    "get_weights_type",
    "human_readable_type_name",
    "load_config",
    "load_full_predictor_from_file",
    "load_predictor",
    "load_predictor_from_ref",
    "load_slim_predictor_from_file",
    "load_slim_predictor_from_ref",
    "readable_types_list",
    "run_setup",
]

ALLOWED_INPUT_TYPES: list[type[Any]] = [str, int, float, bool, File, Path, Secret]


def run_setup(predictor: Any) -> None:
    """Call ``predictor.setup()``, with ``weights`` from COG_WEIGHTS or ./weights if it takes them.

    The weights are typed as setup() asks, as the runtime's worker does (a URL in
    COG_WEIGHTS is downloaded for a ``Path``, opened for a ``File``, kept for a ``str``).
    """
    from cog.runtime.worker._weights import weights_argument  # noqa: PLC0415 (only when called)

    setup = predictor.setup
    if "weights" not in _parameters(setup):
        setup()
        return
    weights = weights_argument(setup, os.environ.get("COG_WEIGHTS") or None, os.getcwd())
    setup(weights=weights)


def _parameters(function: Callable[..., Any]) -> typing.Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(function).parameters
    except (TypeError, ValueError):
        return {}


def get_weights_type(setup_function: Callable[..., Any]) -> Any | None:
    """The annotation of setup()'s ``weights`` (``Optional`` unwrapped); None without one."""
    parameter = _parameters(setup_function).get("weights")
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return None
    try:
        hint: Any = typing.get_type_hints(setup_function).get("weights", parameter.annotation)
    except (NameError, TypeError):
        hint = parameter.annotation
    if typing.get_origin(hint) in UNION_ORIGINS:
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(members) == 1:
            hint = members[0]
    return hint


def load_config() -> dict[str, Any]:
    """cog.yaml of the working directory as a dict (ConfigDoesNotExist when there is none).

    Needs PyYAML, which the reference's SDK brings and this one does not (inside an image
    the runtime's own copy is not on the model's path): a model calling it lists pyyaml.
    """
    try:
        import yaml  # noqa: PLC0415 (only when called)
    except ImportError as exc:
        raise ImportError(
            "cog.predictor.load_config() reads cog.yaml with PyYAML, which is not installed:"
            " add pyyaml to build.python_requirements"
        ) from exc

    config_path = os.path.abspath("cog.yaml")
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except FileNotFoundError as exc:
        raise ConfigDoesNotExist(f"Could not find {config_path}") from exc
    return config if isinstance(config, dict) else {}


def load_predictor(config: dict[str, Any]) -> Any:
    """An instance of the class (or the function) cog.yaml's ``predict`` names."""
    return load_predictor_from_ref(get_predictor_ref(config))


def get_predictor_ref(config: dict[str, Any], mode: str = "predict") -> str:
    """cog.yaml's ref for ``mode`` ("predict", which ``run`` also gives, or "train")."""
    if mode not in ("predict", "train"):
        raise ValueError(f"Invalid mode: {mode}")
    ref = config.get(mode) or (config.get("run") if mode == "predict" else None)
    if not ref:
        raise PredictorNotSet(f"Can't run predictions: '{mode}' option not found in cog.yaml")
    return str(ref)


def load_full_predictor_from_file(module_path: str, module_name: str) -> types.ModuleType:
    """Import the file as ``module_name``, with sys.argv emptied while it runs."""
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {module_path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickle look the module up there
    argv, sys.argv = sys.argv, sys.argv[:1]  # a model's argparse must not see ours
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    finally:
        sys.argv = argv
    return module


def load_slim_predictor_from_file(
    module_path: str, class_name: str, method_name: str
) -> types.ModuleType | None:
    """The reference strips the module to one method first; here it is imported whole."""
    del class_name, method_name
    return load_full_predictor_from_file(module_path, _module_name(module_path))


def get_predictor(module: types.ModuleType, class_name: str) -> Any:
    """``module.class_name``: an instance when it is a class, else the function itself."""
    predictor = getattr(module, class_name)
    return predictor() if inspect.isclass(predictor) else predictor


def load_slim_predictor_from_ref(ref: str, method_name: str) -> Any:
    del method_name
    return load_predictor_from_ref(ref)


def load_predictor_from_ref(ref: str) -> Any:
    """Load ``path/to/file.py:Name`` (relative to the working directory)."""
    module_path, class_name = ref.split(":", 1)
    module = load_full_predictor_from_file(module_path, _module_name(module_path))
    return get_predictor(module, class_name)


def _module_name(module_path: str) -> str:
    return os.path.basename(module_path).split(".py", 1)[0]


def get_predict(predictor: Any) -> Callable[..., Any]:
    """What runs a prediction: run() or predict(), or the predictor itself (a function)."""
    is_instance = not inspect.isclass(predictor) and not inspect.isroutine(predictor)
    if is_instance and user_method_owner(type(predictor), "run") is not None:
        return typing.cast(Callable[..., Any], predictor.run)
    if hasattr(predictor, "predict"):
        return typing.cast(Callable[..., Any], predictor.predict)
    return typing.cast(Callable[..., Any], predictor)


def get_train(predictor: Any) -> Callable[..., Any]:
    if hasattr(predictor, "train"):
        return typing.cast(Callable[..., Any], predictor.train)
    return typing.cast(Callable[..., Any], predictor)


def human_readable_type_name(t: Any) -> str:
    """``str`` for builtins, ``cog.Path`` for the SDK's types, ``module.Name`` otherwise."""
    module = getattr(t, "__module__", None)
    if module == "builtins":
        return str(t.__qualname__)
    if module is not None and module.split(".")[0] == "cog":
        module = "cog"
    try:
        return f"{module}.{t.__qualname__}"
    except AttributeError:
        return str(t)


def readable_types_list(type_list: list[Any]) -> str:
    return ", ".join(human_readable_type_name(t) for t in type_list)
