"""Replays requests recorded against the reference server (coglet 0.23.1).

Each record holds the request, the status and body expected from us, and, where we
deliberately differ, the reference's own answer and the reason (see validate.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cog._signature.validate import InputValidationError, validate_input
from tests.validation._signatures import REFERENCE_SIGNATURES

FIXTURE = Path(__file__).parent.parent / "fixtures" / "validation" / "reference_0_23_1.jsonl"
RECORDS: list[dict[str, Any]] = [
    json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()
]
REASONS = {
    "bound or choice as the reference's Go schema writer prints it (1, not 1.0)",
    "null accepted for an Optional input or one whose default is None",
    "a Secret's value never appears in a message",
    "Path/File must be an http, https or data URL",
    "constraints of a list input apply to each item",
}


@pytest.mark.unit
@pytest.mark.parametrize("record", RECORDS, ids=[r["request"][:60] for r in RECORDS])
def test_recorded_request(record: dict[str, Any]) -> None:
    sig = REFERENCE_SIGNATURES[record["signature"]]
    payload = json.loads(record["request"]).get("input")
    try:
        validate_input(sig, payload)
        status, body = 200, b""
    except InputValidationError as exc:
        status, body = 422, exc.body()
    assert (status, body) == (record["status"], record["body"].encode())


@pytest.mark.unit
def test_every_difference_from_the_reference_is_a_documented_one() -> None:
    deviations = [r for r in RECORDS if "deviation" in r]
    assert {r["deviation"] for r in deviations} == REASONS
    for record in deviations:
        ours = (record["status"], record["body"])
        assert ours != (record["reference_status"], record["reference_body"])
    assert len(RECORDS) - len(deviations) >= 100  # most of the transcript is byte-identical
