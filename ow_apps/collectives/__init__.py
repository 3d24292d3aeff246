"""collectives: a micro-benchmark of one burst collective operation, checked byte for byte.

Every worker runs `op` `warmup + repetitions` times on messages that depend
only on (sender, round, destination) and reports its timings with a CRC of
everything it received. The driver computes the same CRCs the obvious
sequential way (who should have received which messages), so a fast but
wrong middleware cannot pass. Map mode has no collectives: the app refuses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from runner.apps import RunContext, Validation
from runner.config import AppConfig, ConfigError

ROOT = 0  # the root of every rooted operation, as in action.py


class Op(str, Enum):
    pair = "pair"  # workers 2i and 2i+1 swap one message
    broadcast = "broadcast"
    gather = "gather"
    scatter = "scatter"
    all_to_all = "all_to_all"
    reduce = "reduce"  # element-wise uint64 sum
    allreduce = "allreduce"


@dataclass
class Params(AppConfig):
    include: list[str] = field(default_factory=lambda: ["messages.py"])
    memory: int = 1024
    timeout_ms: int = 600_000
    op: Op = Op.broadcast
    # one message: per destination for all_to_all and scatter, per worker for gather
    payload_kb: int = 1024
    repetitions: int = 5  # timed rounds
    warmup: int = 1  # untimed rounds first (connections open on first use)

    def __post_init__(self) -> None:
        for key, value, minimum in (
            ("payload_kb", self.payload_kb, 0),
            ("repetitions", self.repetitions, 1),
            ("warmup", self.warmup, 0),
        ):
            if value < minimum:
                raise ConfigError(f"app.{key}={value}: must be an integer >= {minimum}")


def payloads(params: Params, ctx: RunContext) -> list[dict[str, Any]]:
    if ctx.mode != "burst":
        raise ConfigError("app=collectives needs mode=burst")
    work = {"op": params.op.value, "payload_kb": params.payload_kb,
            "repetitions": params.repetitions, "warmup": params.warmup}
    return [dict(work) for _ in range(ctx.workers)]


def _received(op: Op, nbytes: int, round_: int, workers: int) -> Iterator[list[Any]]:
    """What each worker (in id order) holds after one round, in the order it holds it."""
    import numpy as np

    from .messages import EVERYONE, message

    def sent(sender: int, dest: int = EVERYONE) -> np.ndarray:
        return message(nbytes, sender, round_, dest)

    ids = range(workers)
    if op == Op.broadcast:
        shared = sent(ROOT)
        yield from ([shared] for _ in ids)
    elif op in (Op.reduce, Op.allreduce):
        total = np.zeros(nbytes // 8, dtype=np.uint64)
        for sender in ids:
            total += sent(sender).view(np.uint64)  # wraps, as the workers' sums do
        yield from ([total] if op == Op.allreduce or w == ROOT else [] for w in ids)
    elif op == Op.pair:
        yield from ([sent(w ^ 1, w)] if w ^ 1 < workers else [] for w in ids)
    elif op == Op.gather:
        yield from ([sent(s, ROOT) for s in ids] if w == ROOT else [] for w in ids)
    elif op == Op.scatter:
        yield from ([sent(ROOT, w)] for w in ids)
    else:
        yield from ([sent(s, w) for s in ids] for w in ids)


def expected_digests(params: Params, workers: int) -> list[str]:
    """Each worker's CRC over every round (warmup included), computed sequentially."""
    from .messages import crc

    nbytes = params.payload_kb * 1024
    digests = [0] * workers
    for round_ in range(params.warmup + params.repetitions):
        for worker, chunks in enumerate(_received(params.op, nbytes, round_, workers)):
            digests[worker] = crc(chunks, digests[worker])
    return [f"{digest:08x}" for digest in digests]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    """Every worker received exactly the bytes the operation should deliver to it."""
    if ctx.mode != "burst":
        return Validation(False, "collectives need mode=burst")
    expected = expected_digests(params, len(results))
    for worker_id, result in enumerate(results):
        if result is None:
            return Validation(False, f"worker {worker_id} has no result")
        if result.get("digest") != expected[worker_id]:
            return Validation(
                False, f"worker {worker_id} received other bytes than {params.op.value} "
                f"delivers (CRC {result.get('digest')}, expected {expected[worker_id]})"
            )
    slowest = max(result["op_ms_median"] for result in results if result is not None)
    return Validation(
        True, f"{params.op.value} of {params.payload_kb} KiB among {len(results)} workers "
        f"delivered the expected bytes; slowest worker's median {slowest:.1f} ms"
    )
