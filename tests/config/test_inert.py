"""Keys the reference accepts that change nothing here: they load, and say so once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cog.config import BuildConfig, WeightsSource, load_config
from cog.errors import ConfigError

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "config" / "every-key"
COG = str(Path(sys.executable).parent / "cog")


@pytest.mark.unit
def test_every_key_of_both_generations_loads() -> None:
    path = FIXTURE / "cog.yaml"
    config = load_config(path)
    assert config.build == BuildConfig(
        python_version="3.11",
        python_packages=("pyyaml==6.0.2",),
        system_packages=("libgomp1",),
        sdk_version="0.16.0",
    )
    assert config.predict == "predict.py:Predictor"
    assert config.concurrency_max == 2
    assert config.environment == {"GREETING": "hello"}
    assert config.weights == (
        WeightsSource(path="weights/model.bin", target="/src/weights/model.bin"),
    )
    assert config.notes == (
        f"{path}:10: build.fast has no effect here: images are already built from cached, "
        "content-addressed layers",
        f"{path}:11: build.cog_runtime has no effect here: the image always serves with this "
        "project's runtime",
        f"{path}:12: build.python_overrides has no effect here: pin the versions in "
        "requirements.txt instead; `cog lock` resolves them for the image's platform",
        f"{path}:13: build.environment has no effect here: build.run commands see only the "
        "build's own environment; set runtime variables under the top-level environment:",
        f"{path}:24: weights[0].name has no effect here: weights are named by their source path",
        f"{path}:27: weights[1] (hf://example/remote-weights) has no effect here: only files "
        "inside the project are packed; download it into the project and name that path",
        f"{path}:29: tests has no effect here: it lists checks for the reference's `cog "
        "predict` test runner; run `cog predict -i ...` for each case",
        f"{path}:32: model has no effect here: the entry point is read from run: (or "
        "predict:); the model reference for `cog push` comes from image: or the command line",
    )


@pytest.mark.unit
def test_legacy_build_env_key(tmp_path: Path) -> None:
    path = tmp_path / "cog.yaml"
    path.write_text('build:\n  env:\n    - "A=1"\n')
    assert load_config(path).notes == (
        f"{path}:2: build.env has no effect here: build.run commands see only the build's own "
        "environment; set runtime variables under the top-level environment:",
    )


# An inert key's value is still checked: a typo there is an error, with its line.
WRONG_VALUES = {
    "build:\n  fast: sometimes\n": "{f}:2: build.fast must be true or false, got the string "
    "'sometimes'\nWrite it as true or false, for example:\n  build:\n    fast: true",
    "build:\n  python_overrides: [a]\n": "{f}:2: build.python_overrides must be a non-empty "
    "string, got a list\nWrite it as a non-empty string, for example:\n  build:\n"
    "    python_overrides: overrides.txt",
    "build:\n  fsat: true\n": "{f}:2: unknown key 'build.fsat'\nDid you mean 'fast'? Valid keys "
    "under build: base_image, cog_runtime, cuda, cudnn, env, environment, fast, gpu, "
    "pre_install, python_overrides, python_packages, python_requirements, python_version, "
    "run, sdk_version, system_packages.",
    "testz: []\n": "{f}:1: unknown key 'testz'\nDid you mean 'tests'? Valid keys at the top "
    "level: build, concurrency, environment, image, model, predict, run, tests, train, weights.",
    "weights:\n  - nmae: x\n": "{f}:2: unknown key 'weights[0].nmae'\nDid you mean 'name'? "
    "Valid keys under weights[0]: name, path, source, target.",
}


@pytest.mark.unit
@pytest.mark.parametrize("text", list(WRONG_VALUES))
def test_inert_values_are_still_checked(tmp_path: Path, text: str) -> None:
    path = tmp_path / "cog.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == WRONG_VALUES[text].format(f=path)


@pytest.mark.unit
def test_the_cli_prints_each_note_once(tmp_path: Path) -> None:
    # `cog lock --check` loads cog.yaml more than once; each note appears once, as a note.
    (tmp_path / "predict.py").write_text("")
    (tmp_path / "cog.yaml").write_text('build:\n  fast: true\npredict: "predict.py:Predictor"\n')
    done = subprocess.run(
        [COG, "lock", "--check"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    note = (
        "note: cog.yaml:2: build.fast has no effect here: images are already "
        "built from cached, content-addressed layers\n"
    )
    assert done.stderr.count("note: ") == 1, done.stderr
    assert done.stderr.startswith(note), done.stderr  # a note, before the lock's own error
