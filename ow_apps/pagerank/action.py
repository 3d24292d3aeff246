"""pagerank action. Map: one iteration's contributions of a source range, exchanged through
the storage (ranks in, contributions out). Burst: every iteration on edges kept in memory,
with the contributions allreduced; worker 0 writes the final ranks.

`comm_ms` is the exchange between iterations in both modes: the rank and contribution
objects in map mode, the allreduce in burst mode.
"""

from typing import Any

import numpy as np
import storage
from phases import Clock
from powerstep import contributions, read_partition, step


def _add(left: Any, right: Any) -> np.ndarray:
    return np.frombuffer(left, dtype=np.float64) + np.frombuffer(right, dtype=np.float64)


def _one_iteration(args: dict, degrees: np.ndarray, targets: np.ndarray, clock: Clock) -> dict:
    ranks = np.frombuffer(storage.read(storage.join(args["storage"], args["ranks_in"])))
    clock.lap("comm_ms")
    partial = contributions(degrees, targets, ranks, args["first_node"])
    clock.lap("compute_ms")
    storage.write(storage.join(args["storage"], args["contrib_out"]), partial.data)
    clock.lap("comm_ms")
    return {"worker_id": args["worker_id"], "edges": len(targets), **clock.ms}


def _all_iterations(args: dict, burst: Any, degrees: np.ndarray, targets: np.ndarray,
                    clock: Clock) -> dict:
    ranks = np.full(args["nodes"], 1.0 / args["nodes"])
    iterations = 0
    while iterations < args["iterations"]:
        partial = contributions(degrees, targets, ranks, args["first_node"])
        clock.lap("compute_ms")
        total = np.frombuffer(burst.allreduce(partial, _add), dtype=np.float64)
        clock.lap("comm_ms")
        # Every worker holds the same sum, so all apply the same update and stop together.
        ranks, error = step(ranks, total, args["damping"])
        iterations += 1
        clock.lap("compute_ms")
        if error < args["tolerance"]:
            break
    if burst.worker_id == 0:
        storage.write(storage.join(args["storage"], args["ranks_out"]), ranks.data)
        clock.lap("write_ms")
    return {"worker_id": burst.worker_id, "edges": len(targets), "iterations": iterations,
            "residual": error, **clock.ms}


def main(args: dict, burst: Any = None) -> dict:
    clock = Clock()
    root = args["storage"]
    degrees, targets = read_partition(storage.read_range, storage.join(root, args["offsets"]),
                                      storage.join(root, args["targets"]), args["first_node"],
                                      args["last_node"])
    clock.lap("read_ms")
    if burst is None:
        return _one_iteration(args, degrees, targets, clock)
    return _all_iterations(args, burst, degrees, targets, clock)
