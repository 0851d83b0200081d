"""Every cog.yaml error, compared whole: file, line, key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from cog.config import load_config
from cog.errors import ConfigError

# (cog.yaml text, files to create, expected str(error) with {f} = the cog.yaml path and
# {d} = the project directory)
CASES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "unknown top-level key": (
        "imag: x\n",
        (),
        "{f}:1: unknown key 'imag'\nDid you mean 'image'? Valid keys at the top level: "
        "build, concurrency, environment, image, model, predict, run, tests, train, weights.",
    ),
    "unknown key without a close match": (
        "build:\n  gpu: true\n  zzz: 1\n",
        (),
        "{f}:3: unknown key 'build.zzz'\nRemove it. Valid keys under build: base_image, "
        "cog_runtime, cuda, cudnn, env, environment, fast, gpu, pre_install, python_overrides, "
        "python_packages, python_requirements, python_version, run, sdk_version, "
        "system_packages.",
    ),
    "misspelt build key": (
        "build:\n  pyhton_version: '3.12'\n",
        (),
        "{f}:2: unknown key 'build.pyhton_version'\nDid you mean 'python_version'? Valid keys "
        "under build: base_image, cog_runtime, cuda, cudnn, env, environment, fast, gpu, "
        "pre_install, python_overrides, python_packages, python_requirements, python_version, "
        "run, sdk_version, system_packages.",
    ),
    "build key at the top level": (
        "gpu: true\n",
        (),
        "{f}:1: 'gpu' belongs under build, not at the top level\n"
        "Indent it under build:, for example:\n  build:\n    gpu: ...",
    ),
    "python_packages with python_requirements": (
        "build:\n  python_packages:\n    - torch\n  python_requirements: requirements.txt\n",
        ("requirements.txt",),
        "{f}:4: build.python_packages (line 2) and build.python_requirements (line 4) are "
        "both set; cog.yaml may set only one\nKeep python_requirements (it also takes options "
        "like --extra-index-url): move the python_packages entries into that file and delete "
        "python_packages.",
    ),
    "run with predict": (
        'run: "run.py:Runner"\npredict: "predict.py:Predictor"\n',
        ("run.py", "predict.py"),
        "{f}:2: run (line 1) and predict (line 2) both name the model's entry point\n"
        "Keep run: (the current name) and delete predict: (its legacy spelling).",
    ),
    "wrong type: bool": (
        "build:\n  gpu: maybe\n",
        (),
        "{f}:2: build.gpu must be true or false, got the string 'maybe'\n"
        "Write it as true or false, for example:\n  build:\n    gpu: true",
    ),
    "wrong type: list of strings": (
        "build:\n  system_packages: ffmpeg\n",
        (),
        "{f}:2: build.system_packages must be a list of strings, got the string 'ffmpeg'\n"
        "Write it as a list of strings, for example:\n  build:\n    system_packages:\n"
        '      - "ffmpeg"',
    ),
    "wrong type: list item": (
        "build:\n  python_packages:\n    - {torch: 2}\n",
        (),
        "{f}:3: build.python_packages[0] must be a non-empty string, got a mapping\n"
        "Write it as a non-empty string, for example:\n  build:\n    python_packages:\n"
        '      - "torch==2.6.0"',
    ),
    "wrong type: build": (
        "build: yes\n",
        (),
        "{f}:1: build must be a mapping, got the boolean yes\nWrite it as a mapping, for "
        'example:\n  build:\n    python_version: "3.13"\n  run: "run.py:Runner"',
    ),
    "wrong type: image": (
        "image: [a, b]\n",
        (),
        "{f}:1: image must be a non-empty string, got a list\nWrite it as a non-empty string, "
        'for example:\n  image: "my-registry.example:5000/me/my-model"',
    ),
    "wrong type: concurrency": (
        "concurrency: 4\n",
        (),
        "{f}:1: concurrency must be a mapping, got the number 4\n"
        "Write it as a mapping, for example:\n  concurrency:\n    max: 4",
    ),
    "concurrency.max not a number": (
        "concurrency:\n  max: many\n",
        (),
        "{f}:2: concurrency.max must be a whole number (at least 1), got the string 'many'\n"
        "Write it as a whole number (at least 1), for example:\n  concurrency:\n    max: 4",
    ),
    "concurrency.max zero": (
        "concurrency:\n  max: 0\n",
        (),
        "{f}:2: concurrency.max must be at least 1, got 0\n"
        "Set it to 1 or more, for example:\n  concurrency:\n    max: 4",
    ),
    "concurrency without max": (
        "concurrency:\n  default_target: 2\n",
        (),
        "{f}:2: concurrency has no max\nSet the number of predictions to run at once, for "
        "example:\n  concurrency:\n    max: 4",
    ),
    "runner file missing": (
        'run: "run.py:Runner"\n',
        (),
        "{f}:1: run: 'run.py:Runner' names run.py, which does not exist in {d}\n"
        "Create run.py defining Runner, or fix the path (it is relative to the directory "
        "holding cog.yaml). `cog init` writes a template run.py.",
    ),
    "legacy predictor file missing": (
        "build:\n  gpu: false\npredict: predict.py:Predictor\n",
        (),
        "{f}:3: predict: 'predict.py:Predictor' names predict.py, which does not exist in {d}"
        "\nCreate predict.py defining Predictor, or fix the path (it is relative to the "
        "directory holding cog.yaml). `cog init` writes a template run.py.",
    ),
    "train file missing": (
        "train: train.py:train\n",
        (),
        "{f}:1: train: 'train.py:train' names train.py, which does not exist in {d}\n"
        "Create train.py defining train, or fix the path (it is relative to the directory "
        "holding cog.yaml). `cog init` writes a template run.py.",
    ),
    "runner reference without a name": (
        "run: run.py\n",
        ("run.py",),
        "{f}:1: run must be \"<file>.py:<Name>\", got 'run.py'\nName the Python file and the "
        'class or function in it, for example:\n  run: "run.py:Runner"',
    ),
    "top-level run given commands": (
        "run:\n  - echo hi\n",
        (),
        '{f}:1: run at the top level names the runner (like "run.py:Runner"), got a list\n'
        'Setup commands go under build.run:\n  build:\n    run:\n      - "echo ready"\n'
        'and the top-level run names your Runner:\n  run: "run.py:Runner"',
    ),
    "requirements file missing": (
        "build:\n  python_requirements: requirements.txt\n",
        (),
        "{f}:2: build.python_requirements: requirements.txt does not exist in {d}\n"
        "Create requirements.txt with one requirement per line (e.g. torch==2.6.0), or fix "
        "the path (it is relative to the directory holding cog.yaml).",
    ),
    "python_version not a version": (
        "build:\n  python_version: latest\n",
        (),
        '{f}:2: build.python_version must be a version like "3.13" or "3.13.1", got the '
        "string 'latest'\nWrite the version in quotes, for example:\n  build:\n"
        '    python_version: "3.13"',
    ),
    "python_version major only": (
        "build:\n  python_version: 3\n",
        (),
        '{f}:2: build.python_version must be a version like "3.13" or "3.13.1", got the '
        "number 3\nWrite the version in quotes, for example:\n  build:\n"
        '    python_version: "3.13"',
    ),
    "cuda not a version": (
        "build:\n  gpu: true\n  cuda: twelve\n",
        (),
        "{f}:3: build.cuda must be a version like \"12.4\", got the string 'twelve'\n"
        'Write the version in quotes, for example:\n  build:\n    cuda: "12.4"',
    ),
    "invalid YAML": (
        "build:\n  gpu: [true\n",
        (),
        "{f}:3: invalid YAML: while parsing a flow sequence, expected ',' or ']', but got "
        "'<stream end>' (it started on line 2)\nFix the YAML syntax at line 3, column 1.",
    ),
    "tab indentation": (
        "build:\n\tgpu: true\n",
        (),
        "{f}:2: invalid YAML: while scanning for the next token, found character '\\t' that "
        "cannot start any token\nFix the YAML syntax at line 2, column 1. YAML does not allow "
        "tabs for indentation: use spaces.",
    ),
    "duplicate key": (
        "build:\n  gpu: true\n  gpu: false\n",
        (),
        "{f}:3: duplicate key 'gpu' (first set on line 2)\n"
        "Delete one of the two 'gpu' entries: YAML would silently keep the last.",
    ),
    "not a mapping": (
        "- build\n",
        (),
        "{f}:1: cog.yaml must be a mapping of keys such as build and run, got a list\n"
        "Write it as a mapping of keys such as build and run, for example:\n  build:\n"
        '    python_version: "3.13"\n  run: "run.py:Runner"',
    ),
    "environment entry without =": (
        "environment:\n  - FOO\n",
        (),
        "{f}:2: environment[0]: 'FOO' is not in the form NAME=value\nWrite it as NAME=value, "
        'for example:\n  environment:\n    - "HF_HOME=/src/hf"\n    - "LOG_LEVEL=info"',
    ),
    "environment bad name": (
        "environment:\n  - 1FOO=x\n",
        (),
        "{f}:2: environment: '1FOO' is not a valid variable name\nUse letters, digits and "
        "underscores, not starting with a digit (e.g. HF_HOME=/src/hf).",
    ),
    "environment twice": (
        "environment:\n  FOO: a\n  BAR: b\n  FOO_: c\nweights:\n",
        (),
        "",  # valid: FOO and FOO_ are different names (checked below)
    ),
    "environment reserved name": (
        "environment:\n  - NVIDIA_VISIBLE_DEVICES=0\n",
        (),
        "{f}:2: environment: NVIDIA_VISIBLE_DEVICES is reserved: the image sets it itself\n"
        "Remove it from cog.yaml. Reserved: PATH, LD_LIBRARY_PATH, PYTHONPATH, VIRTUAL_ENV, "
        "PYTHONUNBUFFERED, LIBRARY_PATH, HF_ENDPOINT, HF_HUB_ENABLE_HF_TRANSFER, R8_*, "
        "REPLICATE_*, CUDA_*, NVIDIA_*, NV_*, PGET_*, KUBERNETES_*.",
    ),
    "environment reserved exact name": (
        "environment:\n  PATH: /x\n",
        (),
        "{f}:2: environment: PATH is reserved: the image sets it itself\n"
        "Remove it from cog.yaml. Reserved: PATH, LD_LIBRARY_PATH, PYTHONPATH, VIRTUAL_ENV, "
        "PYTHONUNBUFFERED, LIBRARY_PATH, HF_ENDPOINT, HF_HUB_ENABLE_HF_TRANSFER, R8_*, "
        "REPLICATE_*, CUDA_*, NVIDIA_*, NV_*, PGET_*, KUBERNETES_*.",
    ),
    "environment set twice": (
        "environment:\n  - FOO=1\n  - FOO=2\n",
        (),
        "{f}:3: environment: FOO is set twice (first on line 2)\n"
        "Delete one of the two FOO entries.",
    ),
    "environment wrong type": (
        "environment: FOO=1\n",
        (),
        "{f}:1: environment must be a list of \"NAME=value\" strings, got the string 'FOO=1'"
        '\nWrite it as a list of "NAME=value" strings, for example:\n  environment:\n'
        '    - "HF_HOME=/src/hf"\n    - "LOG_LEVEL=info"',
    ),
    "environment mapping null value": (
        "environment:\n  FOO:\n",
        (),
        "{f}:2: environment.FOO must be a string, got nothing (null)\nWrite it as a string, "
        'for example:\n  environment:\n    FOO: ""',
    ),
    "mount of the wrong type": (
        "build:\n  run:\n    - command: pip install x\n      mounts:\n        - type: bind\n"
        "          id: pip\n          target: /etc/pip.conf\n",
        (),
        "{f}:5: build.run[0].mounts[0].type must be 'secret', got 'bind'\nOnly secret mounts "
        "are supported: type: secret, with the id passed to `cog build --secret "
        "id=<id>,src=<file>`.",
    ),
    "mount without target": (
        "build:\n  run:\n    - command: pip install x\n      mounts:\n        - type: secret\n"
        "          id: pip\n",
        (),
        "{f}:5: build.run[0].mounts[0] has no target\nA mount needs type: secret, an id and a "
        "target, for example:\n  build:\n    run:\n      - command: pip install -r extra.txt\n"
        "        mounts:\n          - type: secret\n            id: pip\n"
        "            target: /etc/pip.conf",
    ),
    "run command mapping without command": (
        "build:\n  run:\n    - mounts: []\n",
        (),
        "{f}:3: build.run[0] has no command\nAdd the command to run, for example:\n  build:\n"
        "    run:\n      - command: pip install -r extra.txt\n        mounts:\n"
        "          - type: secret\n            id: pip\n            target: /etc/pip.conf",
    ),
    "run command typo": (
        "build:\n  run:\n    - comand: ls\n",
        (),
        "{f}:3: unknown key 'build.run[0].comand'\nDid you mean 'command'? Valid keys under "
        "build.run[0]: command, mounts.",
    ),
    "build.run not a list": (
        "build:\n  run: echo hi\n",
        (),
        "{f}:2: build.run must be a list of commands, got the string 'echo hi'\n"
        'Write it as a list of commands, for example:\n  build:\n    run:\n      - "echo ready"',
    ),
    "system package with a space": (
        "build:\n  system_packages:\n    - ffmpeg libgl1\n",
        (),
        "{f}:3: build.system_packages[0]: 'ffmpeg libgl1' is not a Debian package name\n"
        "Write one package per list entry, lower case, optionally with =version (e.g. libgl1 "
        "or ffmpeg=7:5.1.6-0+deb12u1), for example:\n  build:\n    system_packages:\n"
        '      - "ffmpeg"',
    ),
    "mounts not a list": (
        "build:\n  run:\n    - command: ls\n      mounts: pip\n",
        (),
        "{f}:4: build.run[0].mounts must be a list of mounts, got the string 'pip'\n"
        "Write it as a list of mounts, for example:\n  build:\n    run:\n"
        "      - command: pip install -r extra.txt\n        mounts:\n"
        "          - type: secret\n            id: pip\n            target: /etc/pip.conf",
    ),
    "requirements file is a directory": (
        "build:\n  python_requirements: reqs\n",
        ("reqs/a",),
        "{f}:2: build.python_requirements: reqs is a directory in {d}\n"
        "Create reqs with one requirement per line (e.g. torch==2.6.0), or fix the path (it "
        "is relative to the directory holding cog.yaml).",
    ),
    "control character": (
        "build:\n  gpu: \x07\n",
        (),
        "{f}:2: invalid YAML: character #x0007 is not allowed in YAML text\n"
        'Delete the control character on line 2 (or quote it as an escape, like "\\t").',
    ),
    "weights not a list": (
        "weights: model.bin\n",
        ("model.bin",),
        "{f}:1: weights must be a list of weights files, got the string 'model.bin'\n"
        "Write it as a list of weights files, for example:\n  weights:\n"
        "    - source: weights/model.safetensors\n"
        "      target: /src/weights/model.safetensors",
    ),
    "train not a string": (
        "train: {file: train.py}\n",
        (),
        "{f}:1: train must be a non-empty string, got a mapping\n"
        'Write it as a non-empty string, for example:\n  train: "train.py:train"',
    ),
    "weights missing": (
        "weights:\n  - weights/model.bin\n",
        (),
        "{f}:2: weights[0]: weights/model.bin does not exist in {d}\nPut the weights there, "
        "or fix the path (it is relative to the directory holding cog.yaml).",
    ),
    "weights without source": (
        "weights:\n  - target: /src/w\n",
        (),
        "{f}:2: weights[0] has no source\nName the file or directory, for example:\n"
        "  weights:\n    - source: weights/model.safetensors\n"
        "      target: /src/weights/model.safetensors",
    ),
}


def _project(tmp_path: Path, text: str, files: tuple[str, ...]) -> Path:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    path = tmp_path / "cog.yaml"
    path.write_text(text)
    return path


@pytest.mark.unit
@pytest.mark.parametrize("case", [name for name, case in CASES.items() if case[2]])
def test_error_message(tmp_path: Path, case: str) -> None:
    text, files, expected = CASES[case]
    path = _project(tmp_path, text, files)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == expected.format(f=path, d=tmp_path)


@pytest.mark.unit
def test_environment_names_differ_only_by_suffix_is_valid(tmp_path: Path) -> None:
    text, files, _ = CASES["environment twice"]
    config = load_config(_project(tmp_path, text, files))
    assert config.environment == {"FOO": "a", "BAR": "b", "FOO_": "c"}


@pytest.mark.unit
def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cog.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}: file not found\nRun `cog init` to create cog.yaml here, or pass -f/--file "
        "with the path to your config file."
    )


@pytest.mark.unit
def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cog.yaml"
    path.write_bytes(b"build:\n  gpu: true\nimage: \xff\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:3: not UTF-8 text (byte 0xff)\nSave the file as UTF-8."


@pytest.mark.unit
def test_a_directory_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert (
        str(info.value)
        == f"{tmp_path}: cannot read: Is a directory\nCheck that it is a readable file."
    )


@pytest.mark.unit
def test_requirements_include_missing(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r base.txt\n")
    config = load_config(
        _project(tmp_path, "build:\n  python_requirements: requirements.txt\n", ())
    )
    with pytest.raises(ConfigError) as info:
        config.requirements()
    assert str(info.value) == (
        f"{tmp_path / 'base.txt'}: requirements file not found\nCreate it with one requirement "
        "per line (e.g. torch==2.6.0), or fix the path in cog.yaml."
    )


@pytest.mark.unit
def test_requirements_include_cycle(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r base.txt\n")
    (tmp_path / "base.txt").write_text("numpy\n--requirement=requirements.txt\n")
    config = load_config(
        _project(tmp_path, "build:\n  python_requirements: requirements.txt\n", ())
    )
    with pytest.raises(ConfigError) as info:
        config.requirements()
    assert str(info.value) == (
        f"{tmp_path / 'base.txt'}: '--requirement=requirements.txt' makes a cycle of -r "
        "includes (requirements.txt is already being read)\nRemove the circular -r include."
    )


@pytest.mark.unit
def test_error_uses_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "other.yaml").write_text("build:\n  gpu: 2\n")
    with pytest.raises(ConfigError) as info:
        load_config(Path("other.yaml"))
    assert info.value.message == "other.yaml:2: build.gpu must be true or false, got the number 2"
    assert info.value.hint == "Write it as true or false, for example:\n  build:\n    gpu: true"
