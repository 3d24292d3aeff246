"""Every collective of the Rust middleware delivers exactly the Python driver's bytes.

The Rust `collectives` action reports a CRC of everything each worker received; the app's
own `expected_digests` computes it the obvious sequential way.
"""

from __future__ import annotations

import itertools

import pytest

from ow_apps.collectives import Op, Params, expected_digests
from tests.rust.conftest import backend

OPS = [op.value for op in Op]


def _params(op: str, payload_kb: int, size: int) -> list[dict]:
    return [{"op": op, "payload_kb": payload_kb, "repetitions": 1, "warmup": 1}] * size


def _check(envelopes: list[dict], op: str, payload_kb: int) -> None:
    size = len(envelopes)
    expected = expected_digests(Params(op=Op(op), payload_kb=payload_kb, repetitions=1,
                                       warmup=1), size)
    for worker, envelope in enumerate(envelopes):
        assert envelope["error"] is None, envelope
        assert envelope["result"]["digest"] == expected[worker], (op, size, worker)


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_every_collective_for_burst_sizes_1_to_17(kind, burst_of, local_dir, redis_uri):
    for size in range(1, 18):
        for granularity in sorted({1, 3, size}):
            burst = burst_of("collectives", size, granularity)
            info = backend(kind, local_dir, redis_uri)
            for op in OPS:
                burst_id = f"c-{kind}-{size}-{granularity}-{op}"
                _check(burst.run(_params(op, 3, size), info, burst_id), op, 3)
            burst.close()


SIZES_KB = [0, 1, 64, 65, 1024, 16384]


@pytest.mark.parametrize(("kind", "chunk_kb"), [("local", None), ("redis", None),
                                                ("redis", 64), ("redis", 1000)])
def test_messages_from_0_bytes_to_16_mib(kind, chunk_kb, burst_of, local_dir, redis_uri):
    burst = burst_of("collectives", 4, 2)  # pairs 0-1 and 2-3 in a pack, broadcast across
    info = backend(kind, local_dir, redis_uri)
    for payload_kb, op in itertools.product(SIZES_KB, ["pair", "broadcast", "gather"]):
        burst_id = f"m-{kind}-{chunk_kb}-{payload_kb}-{op}"
        envelopes = burst.run(_params(op, payload_kb, 4), info, burst_id, chunk_size=chunk_kb)
        _check(envelopes, op, payload_kb)
