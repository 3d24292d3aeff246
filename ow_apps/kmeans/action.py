"""kmeans action. Map: partial sums of one partition for given centroids.
Burst: every iteration of Lloyd's on a partition kept in memory, sums allreduced."""

import time

import numpy as np
import storage
from lloyd import centroid_shift, partial_sums, update_centroids


def _read_partition(args):
    """Only this worker's rows, from a local file or a ranged GET: the storage decides."""
    row_bytes = args["dims"] * 8
    data = storage.read_range(storage.join(args["storage"], args["points"]),
                              args["first_row"] * row_bytes, args["rows"] * row_bytes)
    return np.frombuffer(data, dtype=np.float64).reshape(args["rows"], args["dims"])


def _add(left, right):
    return (np.frombuffer(left, dtype=np.float64) + np.frombuffer(right, dtype=np.float64)).data


def main(args, burst=None):
    started = time.perf_counter()
    points = _read_partition(args)
    read_ms = (time.perf_counter() - started) * 1000
    centroids = np.array(args["centroids"], dtype=np.float64)
    k, dims = centroids.shape
    if burst is None:
        begin = time.perf_counter()
        sums, counts = partial_sums(points, centroids)
        return {"worker_id": args["worker_id"], "sums": sums.tolist(), "counts": counts.tolist(),
                "read_ms": read_ms, "compute_ms": (time.perf_counter() - begin) * 1000}

    compute_ms = comm_ms = 0.0
    iterations = 0
    for _ in range(args["iterations"]):
        begin = time.perf_counter()
        sums, counts = partial_sums(points, centroids)
        local = np.concatenate([sums.ravel(), counts])
        middle = time.perf_counter()
        total = np.frombuffer(burst.allreduce(local, _add), dtype=np.float64)
        end = time.perf_counter()
        compute_ms += (middle - begin) * 1000
        comm_ms += (end - middle) * 1000
        updated = update_centroids(centroids, total[: k * dims].reshape(k, dims), total[k * dims:])
        shift = centroid_shift(centroids, updated)
        centroids = updated
        iterations += 1
        if shift < args["threshold"]:
            break
    result = {"worker_id": burst.worker_id, "iterations": iterations, "read_ms": read_ms,
              "compute_ms": compute_ms, "comm_ms": comm_ms, "points": len(points)}
    if burst.worker_id == 0:
        result["centroids"] = centroids.tolist()
    return result
