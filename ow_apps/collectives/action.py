"""collectives action: time one collective operation on deterministic messages (burst only).

Every round builds this worker's messages first, waits at a barrier so all
workers start together, then times the operation alone; folding what arrived
into the digest happens after the clock stops. The first `warmup` rounds are
not timed (connections are opened lazily on first use).
"""

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from messages import EVERYONE, add_words, blank, crc, message

ROOT = 0
MIB = 1 << 20

Run = Callable[[], list[Any]]


class Outbox:
    """This worker's messages, rewritten in place each round (one buffer per destination).

    A round's sends are complete when the operation returns, so the next round
    may reuse their memory; fresh arrays would cost page faults on every round.
    """

    def __init__(self, nbytes: int) -> None:
        self._nbytes = nbytes
        self._buffers: dict[int, np.ndarray] = {}

    def message(self, sender: int, round_: int, dest: int = EVERYONE) -> np.ndarray:
        buffer = self._buffers.get(dest)
        if buffer is None:
            buffer = self._buffers[dest] = blank(self._nbytes)
        return message(self._nbytes, sender, round_, dest, out=buffer)


def _pair(burst: Any, outbox: Outbox, round_: int) -> Run:
    me = burst.worker_id
    partner = me ^ 1
    if partner >= burst.burst_size:
        return list  # the odd one out of an odd-sized burst has no partner
    data = outbox.message(me, round_, partner)

    def run() -> list[Any]:
        burst.send(partner, data)
        return [burst.recv(partner)]

    return run


def _broadcast(burst: Any, outbox: Outbox, round_: int) -> Run:
    data = outbox.message(ROOT, round_) if burst.worker_id == ROOT else None
    return lambda: [burst.broadcast(data, root=ROOT)]


def _gather(burst: Any, outbox: Outbox, round_: int) -> Run:
    data = outbox.message(burst.worker_id, round_, ROOT)
    return lambda: burst.gather(data, root=ROOT) or []


def _scatter(burst: Any, outbox: Outbox, round_: int) -> Run:
    chunks = None
    if burst.worker_id == ROOT:
        chunks = [outbox.message(ROOT, round_, dest) for dest in range(burst.burst_size)]
    return lambda: [burst.scatter(chunks, root=ROOT)]


def _all_to_all(burst: Any, outbox: Outbox, round_: int) -> Run:
    me = burst.worker_id
    chunks = [outbox.message(me, round_, dest) for dest in range(burst.burst_size)]
    return lambda: burst.all_to_all(chunks)


def _reduce(burst: Any, outbox: Outbox, round_: int) -> Run:
    data = outbox.message(burst.worker_id, round_)

    def run() -> list[Any]:
        total = burst.reduce(data, add_words, root=ROOT)
        return [] if total is None else [total]

    return run


def _allreduce(burst: Any, outbox: Outbox, round_: int) -> Run:
    data = outbox.message(burst.worker_id, round_)
    return lambda: [burst.allreduce(data, add_words)]


OPS = {
    "pair": _pair,
    "broadcast": _broadcast,
    "gather": _gather,
    "scatter": _scatter,
    "all_to_all": _all_to_all,
    "reduce": _reduce,
    "allreduce": _allreduce,
}


def volume(op: str, me: int, size: int, nbytes: int) -> int:
    """Bytes one round moves in or out of worker ``me`` if every message went directly.

    Rooted operations load the root with everyone's share and the others with
    their own; trees relay more than this, which is what the figure reveals.
    """
    others = size - 1
    if op == "pair":
        return 2 * nbytes if me ^ 1 < size else 0
    if op == "all_to_all":
        return 2 * others * nbytes
    if op == "allreduce":
        return 2 * nbytes if others else 0
    if not others:
        return 0
    return others * nbytes if me == ROOT else nbytes


def main(args: dict, burst: Any = None) -> dict:
    if burst is None:
        raise ValueError("collectives need mode=burst")
    op, nbytes = args["op"], args["payload_kb"] * 1024
    prepare = OPS[op]
    outbox = Outbox(nbytes)
    times_ms: list[float] = []
    digest = 0
    for round_ in range(args["warmup"] + args["repetitions"]):
        run = prepare(burst, outbox, round_)
        burst.barrier()
        started = time.perf_counter()
        received = run()
        elapsed_ms = (time.perf_counter() - started) * 1000
        if round_ >= args["warmup"]:
            times_ms.append(elapsed_ms)
        digest = crc(received, digest)
    median_ms = statistics.median(times_ms)
    moved = volume(op, burst.worker_id, burst.burst_size, nbytes)
    return {
        "worker_id": burst.worker_id,
        "op": op,
        "op_ms_median": median_ms,
        "op_ms_min": min(times_ms),
        "bytes": moved,
        "throughput_mib_s": moved / MIB / (median_ms / 1000) if median_ms > 0 else 0.0,
        "digest": f"{digest:08x}",
    }
