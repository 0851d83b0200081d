"""Read a signature by importing the model: ``python -m cog._signature.fallback DIR REF MODE``.

Run in a subprocess by ``schema.project_schema`` when static analysis cannot decide, with
the Python that has the model's dependencies. Prints one line, ``RESULT_PREFIX`` then
JSON: ``{"signature": ...}`` (the codec's form) or ``{"error": {"message", "hint"}}`` for
a model error. What the model prints while it is imported goes to stderr.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from cog._signature.codec import signature_to_json
from cog._signature.model import Mode
from cog.errors import SchemaError

RESULT_PREFIX = "cog-signature-result: "
_USAGE = "usage: python -m cog._signature.fallback PROJECT_DIR REF predict|train"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 3 or args[2] not in {m.value for m in Mode}:
        print(_USAGE, file=sys.stderr)
        return 2
    project_dir, ref, mode = Path(args[0]), args[1], Mode(args[2])
    # Imported here, not at module level: introspection pulls in the SDK, which the
    # usage error above does not need.
    from cog._signature.introspect import load_entrypoint, signature_of  # noqa: PLC0415

    try:
        with contextlib.redirect_stdout(sys.stderr):
            signature = signature_of(load_entrypoint(project_dir, ref), mode)
    except SchemaError as exc:
        _emit({"error": {"message": exc.message, "hint": exc.hint}})
        return 1
    _emit({"signature": signature_to_json(signature)})
    return 0


def _emit(payload: dict[str, object]) -> None:
    sys.stdout.write(RESULT_PREFIX + json.dumps(payload) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
