"""Paths and loaders shared by the schema tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "schema"
MODELS = FIXTURES / "models"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def predict_cases() -> list[str]:
    """Fixture models with a hand-written expected.json, except the one needing an import."""
    return sorted(
        p.parent.name for p in MODELS.glob("*/expected.json") if p.parent.name != "fallback"
    )


def fixture_ref(case: str) -> str:
    """The fixture's entry point, as its expected.json names it."""
    return str(load_json(MODELS / case / "expected.json")["ref"])


def expected_predict_document(case: str) -> tuple[str, dict[str, Any]]:
    """The fixture's reference and its whole expected document.

    The fixed parts (paths, request/response, status, errors) come from the hand-written
    skeleton; the model's parts (Input, Output, enums, streaming) from its expected.json.
    """
    expected = load_json(MODELS / case / "expected.json")
    document = copy.deepcopy(load_json(FIXTURES / "skeleton_predict.json"))
    fixed = document["components"]["schemas"]
    document["components"]["schemas"] = {**expected["schemas"], **fixed}
    if expected["streaming"]:
        document["paths"]["/predictions"]["post"]["x-cog-streaming"] = True
    return str(expected["ref"]), document
