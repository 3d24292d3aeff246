"""Payload sizes from empty to 16 MiB and numpy arrays, through every backend."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest

from tests.helpers.backends import BackendCase
from tests.helpers.burst import run_burst

MiB = 1 << 20
RING_SIZES = [0, 1, 64 * 1024, 64 * 1024 + 7, MiB + 3, 16 * MiB]


def block(size: int, salt: int) -> np.ndarray:
    return np.random.default_rng(salt).integers(0, 256, size, dtype=np.uint8)


def sha(data: Any) -> str:
    return hashlib.sha256(memoryview(data).cast("B")).hexdigest()


def big_messages(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    me, size = burst.worker_id, burst.burst_size
    right, left = (me + 1) % size, (me - 1) % size
    ring = []
    for nbytes in RING_SIZES:
        burst.send(right, block(nbytes, me * 100 + nbytes % 97))
        ring.append(sha(burst.recv(left)))
    # Non-contiguous and multi-dimensional arrays travel as their C-order bytes.
    matrix = np.arange(48, dtype=np.float64).reshape(6, 8) * (me + 1)
    burst.send(right, matrix[:, ::2])
    got = np.frombuffer(burst.recv(left), dtype=np.float64).reshape(6, 4)
    strided_ok = bool((got == np.arange(48.0).reshape(6, 8)[:, ::2] * (left + 1)).all())
    shared = burst.broadcast(block(16 * MiB, 7) if me == 2 else None, root=2)
    chunks = [block(2 * MiB + 1, me * 1000 + dest) for dest in range(size)]
    received = burst.all_to_all(chunks)
    return {
        "ring": ring,
        "strided": strided_ok,
        "bcast": sha(shared),
        "a2a": [sha(r) for r in received],
    }


def check(envelopes: list[dict[str, Any]]) -> None:
    size = len(envelopes)
    for me, envelope in enumerate(envelopes):
        assert envelope["error"] is None, envelope["error"]
        left = (me - 1) % size
        result = envelope["result"]
        assert result["ring"] == [sha(block(n, left * 100 + n % 97)) for n in RING_SIZES]
        assert result["strided"]
        assert result["bcast"] == sha(block(16 * MiB, 7))
        assert result["a2a"] == [sha(block(2 * MiB + 1, src * 1000 + me)) for src in range(size)]


@pytest.mark.parametrize("chunk_kb", [None, 1000])
def test_big_payloads(backend_case: BackendCase, chunk_kb: int | None) -> None:
    if backend_case.backend_type == "Local" and chunk_kb is not None:
        pytest.skip("the Local backend does not chunk")
    burst_id = f"big-{chunk_kb}"
    envelopes = run_burst(big_messages, [{}] * 5, 2, backend_case.info(), burst_id, timeout_s=90,
                          chunk_size=chunk_kb)
    check(envelopes)
    assert backend_case.leftovers(burst_id) == []
