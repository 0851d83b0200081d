"""Helpers for the validation tests: expected 422 bodies, written out by hand."""

from __future__ import annotations

import pytest

from cog._signature.model import Signature
from cog._signature.validate import InputValidationError, validate_input


def rejection(sig: Signature, payload: object) -> bytes:
    """The 422 body for a payload that must be refused."""
    with pytest.raises(InputValidationError) as caught:
        validate_input(sig, payload)
    return caught.value.body()


def detail(loc: str, msg: str, kind: str = "value_error") -> str:
    """One entry of the 422 body, written out as the reference writes it."""
    return f'{{"loc":["body","input",{loc}],"msg":{msg},"type":"{kind}"}}'


def body(*entries: str) -> bytes:
    return ('{"detail":[' + ",".join(entries) + "]}").encode()
