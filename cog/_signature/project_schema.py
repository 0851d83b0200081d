"""A project's OpenAPI schema: static analysis first, importing the model only when needed.

The model is imported only where its dependencies are: inside its built image (as the
reference reads it), through the ``import_model`` a build passes. Without one, a project
whose source does not decide its signature is a ``SchemaNeedsBuildError`` error: the host's
Python never imports the model.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cog._signature.codec import signature_from_json
from cog._signature.fallback import RESULT_PREFIX
from cog._signature.model import Mode, Signature
from cog._signature.openapi import openapi_document
from cog._signature.static import StaticAnalysisUndecided, signature_from_source
from cog.errors import SchemaError

__all__ = [
    "FALLBACK_TIMEOUT_S",
    "ImportModel",
    "SchemaNeedsBuildError",
    "SchemaResult",
    "decode_fallback",
    "project_schema",
    "subprocess_importer",
]

# The directory holding this `cog` package: the subprocess must import the same cog
# (the fallback module is ours), whatever else that Python has installed.
_COG_ROOT = Path(__file__).resolve().parents[2]
FALLBACK_TIMEOUT_S = 600.0
"""Importing a model can mean importing torch and friends: minutes on a cold disk."""


ImportModel = typing.Callable[[str, Mode], Signature]
"""Reads one entry point's signature by importing the model where its dependencies are."""


class SchemaNeedsBuildError(SchemaError):
    """The source alone does not decide the signature, and nothing may import the model."""


@dataclass(frozen=True)
class SchemaResult:
    document: dict[str, Any]
    predict: Signature | None
    train: Signature | None
    used_fallback: bool
    notes: tuple[str, ...]


def project_schema(
    project_dir: Path,
    predict_ref: str | None,
    train_ref: str | None,
    *,
    import_model: ImportModel | None = None,
    where: str = "inside its image",
) -> SchemaResult:
    """The /openapi.json document of the model in ``project_dir``, and how it was read.

    ``import_model`` reads a signature the source alone does not decide (``where`` says
    where it imports the model, for the note); without it that is ``SchemaNeedsBuildError``.
    """
    if predict_ref is None and train_ref is None:
        raise SchemaError(
            f"{project_dir / 'cog.yaml'} names no model to run",
            'Add run: "run.py:Runner" (or train: "train.py:train") to cog.yaml.',
        )
    notes: list[str] = []
    used_fallback = False
    signatures: dict[Mode, Signature] = {}
    for mode, ref in ((Mode.PREDICT, predict_ref), (Mode.TRAIN, train_ref)):
        if ref is None:
            continue
        try:
            signature = signature_from_source(project_dir, ref, mode)
        except StaticAnalysisUndecided as exc:
            if import_model is None:
                raise SchemaNeedsBuildError(
                    f"{ref}: the source alone does not decide the signature ({exc.message})",
                    "This project's schema is read inside its image, where the model's "
                    "dependencies are: run `cog build`, and the image carries it (label "
                    "run.cog.openapi_schema; `cog serve` serves it at /openapi.json).",
                ) from None
            notes.append(
                f"{ref}: the source alone did not decide the signature ({exc.message}); "
                f"read it by importing the model {where}"
            )
            signature = import_model(ref, mode)
            used_fallback = True
        notes.extend(f"{ref}: {warning}" for warning in signature.warnings)
        signatures[mode] = signature
    predict, train = signatures.get(Mode.PREDICT), signatures.get(Mode.TRAIN)
    return SchemaResult(
        document=openapi_document(predict, train),
        predict=predict,
        train=train,
        used_fallback=used_fallback,
        notes=tuple(notes),
    )


def subprocess_importer(project_dir: Path, python: str) -> ImportModel:
    """Import the model with ``python`` (which has the model's dependencies and ``cog``).

    Not for the host: the build imports the model inside its image. Tests and tools that
    have an interpreter with the model's dependencies use it.
    """

    def import_model(ref: str, mode: Mode) -> Signature:
        return _imported_signature(project_dir, ref, mode, python)

    return import_model


def _imported_signature(project_dir: Path, ref: str, mode: Mode, python: str) -> Signature:
    argv = [python, "-m", "cog._signature.fallback", str(project_dir), ref, mode.value]
    env = dict(os.environ)
    foreign = Path(python).resolve() != Path(sys.executable).resolve()
    if foreign and not _COG_ROOT.name.endswith(("site-packages", "dist-packages")):
        # Another interpreter must import this cog: from a checkout or a pex's own wheel
        # directory. (This interpreter finds it as installed, with nothing else exposed.)
        # A whole site-packages would drag this interpreter's packages into another one.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_COG_ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            argv,
            cwd=project_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=FALLBACK_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchemaError(
            f"importing {ref} to read its signature failed: {exc}",
            f"Check that {python} runs and can import the model's dependencies.",
        ) from exc
    return decode_fallback(ref, done.stdout, done.stderr, done.returncode, f"with {python}")


def decode_fallback(ref: str, stdout: str, stderr: str, returncode: int, where: str) -> Signature:
    """The signature ``python -m cog._signature.fallback`` printed, or its error."""
    result = _result_line(stdout)
    if result is None:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise SchemaError(
            f"importing {ref} {where} to read its signature failed "
            f"(exit status {returncode}):\n{tail}",
            "Fix the import error above (the model's requirements belong in cog.yaml), or "
            "use types Cog can read from the source (cog types, or "
            "Annotated[..., cog.Opaque]).",
        )
    if "error" in result:
        error = result["error"]
        raise SchemaError(str(error["message"]), error.get("hint"))
    try:
        return signature_from_json(result["signature"])
    except (KeyError, ValueError, TypeError) as exc:
        raise SchemaError(
            f"importing {ref} {where} returned a signature this cog cannot read: {exc}",
            "Use the same cog version there as on the command line.",
        ) from exc


def _result_line(stdout: str) -> dict[str, Any] | None:
    # User code may write to the real stdout (C extensions bypass sys.stdout): take the
    # last line that carries the marker.
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            try:
                parsed = json.loads(line[len(RESULT_PREFIX) :])
            except json.JSONDecodeError:
                return None
            return parsed if isinstance(parsed, dict) else None
    return None
