"""mcpi action: count darts; in a burst, sum the counts with reduce."""

from darts import hits
from phases import Clock


def add(left, right):
    return (int.from_bytes(left, "little") + int.from_bytes(right, "little")).to_bytes(8, "little")


def main(args, burst=None):
    clock = Clock()
    mine = hits(args["samples"], args["seed"])
    clock.lap("compute_ms")
    result = {"hits": mine, **clock.ms}
    if burst is not None:
        total = burst.reduce(mine.to_bytes(8, "little"), add, root=0)
        clock.lap("comm_ms")
        result.update(clock.ms, worker_id=burst.worker_id,
                      total=int.from_bytes(total, "little") if total is not None else None)
    return result
