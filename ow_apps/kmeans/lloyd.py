"""One Lloyd step split in two: partial sums per partition, then the centroid update.

Shared by the action (inside the zip), the map driver and the validation, so
all three compute exactly the same arithmetic.
"""

from __future__ import annotations

import numpy as np


def partial_sums(points: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-centroid coordinate sums and point counts of the points nearest to each centroid."""
    k = len(centroids)
    distances = (
        (points * points).sum(axis=1)[:, None]
        - 2.0 * points @ centroids.T
        + (centroids * centroids).sum(axis=1)[None, :]
    )
    nearest = distances.argmin(axis=1)
    counts = np.bincount(nearest, minlength=k).astype(np.float64)
    sums = np.zeros_like(centroids)
    np.add.at(sums, nearest, points)
    return sums, counts


def update_centroids(centroids: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean of each cluster; a centroid with no points stays where it was."""
    updated = centroids.copy()
    filled = counts > 0
    updated[filled] = sums[filled] / counts[filled, None]
    return updated


def centroid_shift(before: np.ndarray, after: np.ndarray) -> float:
    return float(np.linalg.norm(after - before, axis=1).max())


def lloyd(points: np.ndarray, centroids: np.ndarray, iterations: int,
          threshold: float) -> tuple[np.ndarray, int]:
    """The whole computation in one process: the reference both modes must reproduce."""
    done = 0
    while done < iterations:
        sums, counts = partial_sums(points, centroids)
        updated = update_centroids(centroids, sums, counts)
        shift = centroid_shift(centroids, updated)
        centroids = updated
        done += 1
        if shift < threshold:
            break
    return centroids, done
