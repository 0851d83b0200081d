"""load_config: cog.yaml text to a Config, or a ConfigError naming file, line, key and fix."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cog.config._build_section import BUILD_KEYS, read_build
from cog.config._inert import INERT_TOP_KEYS, check_inert, print_notes
from cog.config._sections import read_concurrency, read_environment, read_weights
from cog.config._values import Reader, indent_example
from cog.config._yaml import YEntry, YMap, YScalar, YSeq, parse_yaml
from cog.config.spec import Config
from cog.errors import ConfigError

TOP_KEYS = (
    "build",
    "run",
    "predict",
    "train",
    "image",
    "concurrency",
    "environment",
    "weights",
    *INERT_TOP_KEYS,
)
_REF = re.compile(r"^(?P<file>[^:]+\.py):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")
_EXAMPLES = {
    "build": 'build:\n  python_version: "3.13"\nrun: "run.py:Runner"',
    "run": 'run: "run.py:Runner"',
    "predict": 'predict: "predict.py:Predictor"',
    "train": 'train: "train.py:train"',
    "image": 'image: "my-registry.example:5000/me/my-model"',
}


def load_config(path: Path, *, entry_files: bool = True) -> Config:
    """Read and validate ``path`` (a cog.yaml), checking that the files it names exist.

    ``entry_files=False``: the files run/predict and train name need not exist (the runtime
    serves without them, /health-check says SETUP_FAILED naming the file); the rest is
    checked all the same.
    """
    filename = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{filename}: file not found",
            "Run `cog init` to create cog.yaml here, or pass -f/--file with the path to "
            "your config file.",
        ) from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes().count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            f"{filename}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x})",
            "Save the file as UTF-8.",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{filename}: cannot read: {exc.strerror}", "Check that it is a readable file."
        ) from None
    root = parse_yaml(text, filename)
    project_dir = path.absolute().parent
    reader = Reader(filename)
    if root is None:
        return Config(path=path.absolute(), project_dir=project_dir)
    if not isinstance(root, YMap):
        raise reader.wrong_type(
            root, "cog.yaml", "a mapping of keys such as build and run", _EXAMPLES["build"]
        )
    config = _config(reader, root, path.absolute(), project_dir, entry_files=entry_files)
    print_notes(filename, config.path, config.notes)
    return config


def _config(
    reader: Reader, root: YMap, path: Path, project_dir: Path, *, entry_files: bool
) -> Config:
    for entry in root.entries:
        if entry.key not in TOP_KEYS and entry.key in BUILD_KEYS:
            raise reader.error(
                entry.line,
                f"'{entry.key}' belongs under build, not at the top level",
                f"Indent it under build:, for example:\n  build:\n    {entry.key}: ...",
            )
    reader.check_keys(root, TOP_KEYS, None)
    entry_dir = project_dir if entry_files else None
    values: dict[str, Any] = {"predict": _runner_ref(reader, root, entry_dir)}
    for entry in root.entries:
        if isinstance(entry.value, YScalar) and entry.value.value is None:
            continue  # "key:" with nothing after it: the default
        if entry.key == "build":
            build = reader.mapping(entry.value, "build", _EXAMPLES["build"])
            values["build"] = read_build(reader, build, project_dir)
        elif entry.key == "train":
            values["train"] = _entry_ref(reader, entry, entry_dir)
        elif entry.key == "image":
            values["image"] = reader.string(entry.value, "image", _EXAMPLES["image"])
        elif entry.key == "concurrency":
            values["concurrency_max"] = read_concurrency(reader, entry.value)
        elif entry.key == "environment":
            values["environment"] = read_environment(reader, entry.value)
        elif entry.key == "weights":
            values["weights"] = read_weights(reader, entry.value, project_dir)
        elif entry.key in INERT_TOP_KEYS:
            reader.notes.append(check_inert(reader, entry, None))
    return Config(path=path, project_dir=project_dir, notes=tuple(reader.notes), **values)


def _runner_ref(reader: Reader, root: YMap, project_dir: Path | None) -> str | None:
    run, predict = root.get("run"), root.get("predict")
    if run is not None and predict is not None:
        raise reader.error(
            max(run.line, predict.line),
            f"run (line {run.line}) and predict (line {predict.line}) both name the model's "
            "entry point",
            "Keep run: (the current name) and delete predict: (its legacy spelling).",
        )
    if run is not None and isinstance(run.value, (YSeq, YMap)):
        raise reader.error(
            run.line,
            'run at the top level names the runner (like "run.py:Runner"), got a '
            + ("list" if isinstance(run.value, YSeq) else "mapping"),
            'Setup commands go under build.run:\n  build:\n    run:\n      - "echo ready"\n'
            'and the top-level run names your Runner:\n  run: "run.py:Runner"',
        )
    entry = run or predict
    if entry is None or (isinstance(entry.value, YScalar) and entry.value.value is None):
        return None
    return _entry_ref(reader, entry, project_dir)


def _entry_ref(reader: Reader, entry: YEntry, project_dir: Path | None) -> str:
    """The ref ``entry`` holds; its file must exist in ``project_dir`` unless that is None."""
    example = _EXAMPLES[entry.key]
    ref = reader.string(entry.value, entry.key, example)
    match = _REF.match(ref)
    if match is None:
        raise reader.error(
            entry.value.line,
            f"{entry.key} must be \"<file>.py:<Name>\", got '{ref}'",
            "Name the Python file and the class or function in it, for example:\n"
            + indent_example(example),
        )
    file, name = match.group("file"), match.group("name")
    if project_dir is not None and not (project_dir / file).is_file():
        raise reader.error(
            entry.value.line,
            f"{entry.key}: '{ref}' names {file}, which does not exist in {project_dir}",
            f"Create {file} defining {name}, or fix the path (it is relative to the "
            "directory holding cog.yaml). `cog init` writes a template run.py.",
        )
    return ref
