"""Every collective against the obvious sequential computation, over many burst shapes.

Bursts run in-process (one forked pack runner per pack, one forked process per
worker) without the exec layer; the launcher tests cover that layer.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runner.burst import pack
from tests.helpers.backends import BackendCase
from tests.helpers.burst import run_burst

SUM_LEN = 16


def payload(seed: int, *key: int) -> bytes:
    """Deterministic bytes a worker sends, reproducible by the test for its expectations."""
    rng = random.Random(hash((seed, *key)))
    return rng.randbytes(rng.randrange(0, seed % 4096 + 1))


def digest(data: Any) -> str | None:
    if data is None:
        return None
    return hashlib.sha256(memoryview(data).cast("B")).hexdigest()


def concat(left: Any, right: Any) -> bytes:
    """Associative but not commutative: catches reductions that reorder workers."""
    return bytes(left) + bytes(right)


def add_u8(left: Any, right: Any) -> np.ndarray:
    return np.frombuffer(left, dtype=np.uint8) + np.frombuffer(right, dtype=np.uint8)


def every_collective(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    me, size, seed, root = burst.worker_id, burst.burst_size, args["seed"], args["root"]
    other_root = (root + 1) % size
    # A point-to-point message left pending across all collectives must not mix with them.
    burst.send((me + 1) % size, payload(seed, 1, me))
    out: dict[str, Any] = {}
    out["bcast"] = digest(burst.broadcast(payload(seed, 2) if me == root else None, root=root))
    second = payload(seed, 3) if me == other_root else None
    out["bcast2"] = digest(burst.broadcast(second, root=other_root))
    gathered = burst.gather(payload(seed, 4, me), root=root)
    out["gather"] = None if gathered is None else [digest(g) for g in gathered]
    chunks = [payload(seed, 5, dest) for dest in range(size)] if me == root else None
    out["scatter"] = digest(burst.scatter(chunks, root=root))
    received = burst.all_to_all([payload(seed, 6, me, dest) for dest in range(size)])
    out["a2a"] = [digest(r) for r in received]
    out["reduce"] = digest(burst.reduce(payload(seed, 7, me), concat, root=root))
    mine = np.frombuffer(random.Random(seed + me).randbytes(SUM_LEN), dtype=np.uint8)
    out["allreduce"] = digest(burst.allreduce(mine, add_u8))
    burst.barrier()
    out["ring"] = digest(burst.recv((me - 1) % size))
    return out


def expected(seed: int, root: int, size: int, me: int) -> dict[str, Any]:
    total = np.zeros(SUM_LEN, dtype=np.uint8)
    for worker in range(size):
        total += np.frombuffer(random.Random(seed + worker).randbytes(SUM_LEN), dtype=np.uint8)
    is_root = me == root
    return {
        "bcast": digest(payload(seed, 2)),
        "bcast2": digest(payload(seed, 3)),
        "gather": [digest(payload(seed, 4, w)) for w in range(size)] if is_root else None,
        "scatter": digest(payload(seed, 5, me)),
        "a2a": [digest(payload(seed, 6, src, me)) for src in range(size)],
        "reduce": digest(b"".join(payload(seed, 7, w) for w in range(size))) if is_root else None,
        "allreduce": digest(total),
        "ring": digest(payload(seed, 1, (me - 1) % size)),
    }


def check_burst(envelopes: list[dict[str, Any]], seed: int, root: int) -> None:
    size = len(envelopes)
    for me, envelope in enumerate(envelopes):
        assert envelope["worker_id"] == me
        assert envelope["error"] is None, envelope["error"]
        assert envelope["result"] == expected(seed, root, size, me), f"worker {me}"


@st.composite
def burst_shapes(draw: st.DrawFn, max_size: int = 64) -> tuple[int, int, int, int]:
    size = draw(st.integers(1, max_size))
    granularity = draw(st.integers(1, size))
    root = draw(st.integers(0, size - 1))
    seed = draw(st.integers(0, 2**20))
    return size, granularity, root, seed


FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)


@pytest.mark.parametrize("shared_memory", [False, True], ids=["socket", "shared_memory"])
@settings(FAST, max_examples=6)
@given(data=st.data(), chunk_kb=st.sampled_from([None, 1, 3]))
def test_collectives_on_every_backend(
    backend_case: BackendCase, shared_memory: bool, data: st.DataObject, chunk_kb: int | None
) -> None:
    """``shared_memory``: pack-mates exchange every non-empty message as a segment."""
    size, granularity, root, seed = data.draw(burst_shapes(max_size=backend_case.max_workers))
    burst_id = f"h{seed}-{size}-{granularity}"
    with mock.patch.object(pack, "SEGMENTS_FROM", 1 if shared_memory else None):
        envelopes = run_burst(
            every_collective,
            [{"seed": seed, "root": root}] * size,
            granularity,
            backend_case.info(),
            burst_id=burst_id,
            timeout_s=60,
            chunk_size=chunk_kb,
        )
    check_burst(envelopes, seed, root)
    assert backend_case.leftovers(burst_id) == [], "a finished burst leaves nothing behind"


@FAST
@given(shape=burst_shapes())
def test_collectives_local_up_to_64_workers(shape: tuple[int, int, int, int]) -> None:
    size, granularity, root, seed = shape
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        envelopes = run_burst(
            every_collective,
            [{"seed": seed, "root": root}] * size,
            granularity,
            {"backend_type": "Local", "uri": uri},
            burst_id=f"h{seed}",
        )
    check_burst(envelopes, seed, root)


@pytest.mark.parametrize(("size", "granularity"), [(1, 1), (2, 1), (7, 7), (9, 4), (16, 4)])
def test_collectives_local_fixed_shapes(size: int, granularity: int) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        envelopes = run_burst(
            every_collective,
            [{"seed": 1234, "root": size - 1}] * size,
            granularity,
            {"backend_type": "Local", "uri": uri},
            burst_id="fixed",
        )
    check_burst(envelopes, 1234, size - 1)
