"""One PageRank power step split in two: contributions of a partition, then the global update.

Shared by the action (inside the zip), the map driver and the validation, so
all of them apply exactly the same rule. The graph is in CSR form: `offsets`
(int64, nodes + 1) indexes `targets` (int32, one per edge, sorted by source),
so a source-node range is one byte range of each file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_partition(offsets_path: str | Path, targets_path: str | Path, first_node: int,
                   last_node: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-degrees of nodes [first_node, last_node) and the targets of their edges."""
    offsets = np.fromfile(offsets_path, dtype=np.int64, count=last_node - first_node + 1,
                          offset=first_node * 8)
    targets = np.fromfile(targets_path, dtype=np.int32, count=int(offsets[-1] - offsets[0]),
                          offset=int(offsets[0]) * 4)
    return np.diff(offsets), targets


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
