"""A seeded directed multigraph with power-law in- and out-degrees, stored as CSR arrays.

Out-degrees are drawn first, so edges come out already sorted by source and
never need a global sort; targets are drawn in chunks, so memory stays
bounded at cluster sizes. Popularity follows Zipf's law with exponent SKEW
(degree exponent about 1 + 1/SKEW = 2.1, as measured on the web) over a
random order of the nodes, so heavy nodes are spread over every partition.
Low-weight nodes often draw no out-edge: the graph has dangling nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import storage

SKEW = 0.9
CHUNK_EDGES = 4_000_000


@dataclass(frozen=True)
class GraphFiles:
    offsets: storage.Location  # int64, nodes + 1
    targets: storage.Location  # int32, edges

    def complete(self, nodes: int, edges: int) -> bool:
        return (storage.size(self.offsets) == (nodes + 1) * 8
                and storage.size(self.targets) == edges * 4)


def _zipf_weights(rng: np.random.Generator, nodes: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, nodes + 1, dtype=np.float64) ** SKEW
    return weights[rng.permutation(nodes)] / weights.sum()


def generate(files: GraphFiles, nodes: int, edges: int, seed: int) -> None:
    """Stores both arrays, each published whole, the offsets last: if they are complete,
    so are the targets."""
    rng = np.random.default_rng(seed)
    degrees = rng.multinomial(edges, _zipf_weights(rng, nodes))
    popularity = np.cumsum(_zipf_weights(rng, nodes))
    with storage.staged(files.targets) as path, path.open("wb") as out:
        for first in range(0, edges, CHUNK_EDGES):
            draws = rng.random(min(CHUNK_EDGES, edges - first)) * popularity[-1]
            targets = np.searchsorted(popularity, draws, side="right")
            out.write(np.minimum(targets, nodes - 1).astype(np.int32).data)
    storage.write(files.offsets, np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64).data)
