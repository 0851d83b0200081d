from __future__ import annotations

import gzip
import io
import random

import pytest

from cog.rules.pgzip import BLOCK, ParallelGzip


def _compress(data: bytes, workers: int, level: int = 6, chunk: int = 100_000) -> bytes:
    out = io.BytesIO()
    gz = ParallelGzip(out, level, workers=workers)
    for i in range(0, len(data), chunk):
        gz.write(data[i : i + chunk])
    gz.close()
    return out.getvalue()


@pytest.mark.unit
@pytest.mark.parametrize("size", [0, 1, BLOCK, 3 * BLOCK + 12345])
def test_the_same_bytes_on_any_number_of_cores(size: int) -> None:
    rng = random.Random(size)
    # Half compressible text, half noise, so blocks compress differently.
    data = bytes(rng.choice(b"abcdefgh ") for _ in range(size // 2)) + rng.randbytes(
        size - size // 2
    )
    one = _compress(data, workers=1)
    many = _compress(data, workers=4, chunk=7777)
    assert one == many
    assert gzip.decompress(one) == data
    assert one[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


@pytest.mark.unit
def test_carrying_the_window_keeps_the_ratio_of_one_stream() -> None:
    data = b"the same sentence again and again. " * 200_000  # spans several blocks
    parallel = len(_compress(data, workers=2))
    single = len(gzip.compress(data, 6))
    assert parallel < single * 1.05
