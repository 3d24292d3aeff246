"""One PageRank power step split in two: contributions of a partition, then the global update.

Shared by the action (inside the zip), the map driver and the validation, so
all of them apply exactly the same rule. The graph is in CSR form: `offsets`
(int64, nodes + 1) indexes `targets` (int32, one per edge, sorted by source),
so a source-node range is one byte range of each array.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# storage.read_range, passed in: this module imports nothing from the project.
ReadRange = Callable[[Any, int, int], bytes]


def read_partition(read_range: ReadRange, offsets: Any, targets: Any, first_node: int,
                   last_node: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-degrees of nodes [first_node, last_node) and the targets of their edges.

    Two ranged reads, of the locations `offsets` and `targets`: a worker fetches
    only its own part of the graph.
    """
    bounds = np.frombuffer(read_range(offsets, first_node * 8, (last_node - first_node + 1) * 8),
                           dtype=np.int64)
    edges = read_range(targets, int(bounds[0]) * 4, int(bounds[-1] - bounds[0]) * 4)
    return np.diff(bounds), np.frombuffer(edges, dtype=np.int32)


def contributions(degrees: np.ndarray, targets: np.ndarray, ranks: np.ndarray,
                  first_node: int) -> np.ndarray:
    """Rank each node receives over this partition's edges, plus (last) its dangling mass.

    Summing these vectors over all partitions gives everything the update
    needs, so one reduction per iteration is the only communication.
    """
    own = ranks[first_node:first_node + len(degrees)]
    share = np.divide(own, degrees, out=np.zeros_like(own), where=degrees > 0)
    received = np.bincount(targets, weights=np.repeat(share, degrees), minlength=len(ranks))
    return np.append(received, own[degrees == 0].sum())


def step(ranks: np.ndarray, total: np.ndarray, damping: float) -> tuple[np.ndarray, float]:
    """New ranks from summed contributions; dangling mass is spread evenly. Returns L1 change."""
    nodes = len(ranks)
    updated = (1.0 - damping) / nodes + damping * (total[:nodes] + total[nodes] / nodes)
    return updated, float(np.abs(updated - ranks).sum())
