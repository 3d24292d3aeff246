"""kmeans: Lloyd's algorithm with partitioned data, checked against NumPy on the whole data.

Points live in one float64 object in the run's storage (ow_apps/storage.py);
every worker reads only its own row range. Burst workers keep their partition
in memory across iterations and allreduce partial sums; map workers are
stateless, so each iteration is a map stage that re-reads the partition and the
driver reduces. The Rust crates (`rust/` for map, `rust_burst/` for burst,
`app.lang=rust`) take the same payloads and answer the same results, so the
driver and the check below serve both languages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from runner.apps import RunContext, Validation
from runner.config import AppConfig, Lang

from .. import storage

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Params(AppConfig):
    include: list[str] = field(default_factory=lambda: ["lloyd.py", "../storage.py"])
    memory: int = 512
    timeout_ms: int = 300_000
    points: int = 200_000  # total points, split evenly over the workers
    dims: int = 8
    k: int = 8
    iterations: int = 10  # cap
    threshold: float = 1e-4  # stop when no centroid moves farther than this
    seed: int = 42


def points_name(params: Params) -> str:
    """Where the points are under the storage root: one object per (points, dims, k, seed)."""
    return f"kmeans/points-{params.points}x{params.dims}-k{params.k}-s{params.seed}.f64"


def dataset(params: Params, root: storage.Location) -> storage.Location:
    """Generates the points unless the storage already holds them; later runs reuse them."""
    import numpy as np

    location = storage.join(root, points_name(params))
    if storage.size(location) == params.points * params.dims * 8:
        return location
    rng = np.random.default_rng(params.seed)
    centers = rng.uniform(-10, 10, size=(params.k, params.dims))
    labels = rng.integers(0, params.k, size=params.points)
    points = centers[labels] + rng.normal(0, 1.0, size=(params.points, params.dims))
    storage.write(location, points.astype(np.float64).data)
    return location


def initial_centroids(params: Params, location: storage.Location) -> np.ndarray:
    """k distinct points chosen by the seed: the same start for every mode and the check."""
    import numpy as np

    rng = np.random.default_rng(params.seed + 1)
    rows = np.sort(rng.choice(params.points, size=params.k, replace=False))
    row_bytes = params.dims * 8
    return np.array([np.frombuffer(storage.read_range(location, row * row_bytes, row_bytes))
                     for row in rows])


def _partition(params: Params, workers: int, worker_id: int) -> tuple[int, int]:
    per, extra = divmod(params.points, workers)
    first = worker_id * per + min(worker_id, extra)
    return first, per + (1 if worker_id < extra else 0)


def payloads(params: Params, ctx: RunContext) -> list[dict[str, Any]]:
    root = storage.root(ctx.storage, ctx.data_dir)
    start = initial_centroids(params, dataset(params, root)).tolist()
    common = {"storage": root, "points": points_name(params), "dims": params.dims, "k": params.k,
              "iterations": params.iterations, "threshold": params.threshold,
              "centroids": start}
    if params.lang == Lang.rust:  # Rust workers reach S3 through presigned URLs (storage.py)
        common.update(storage.presigned(root, reads=[points_name(params)]))
    return [
        {**common, "first_row": first, "rows": rows}
        for first, rows in (_partition(params, ctx.workers, w) for w in range(ctx.workers))
    ]


def run(params: Params, ctx: RunContext, executor: Any) -> dict:
    """Burst: one invocation does every iteration. Map: the driver runs one stage per iteration."""
    import numpy as np

    from .lloyd import centroid_shift, update_centroids

    work = payloads(params, ctx)
    if ctx.mode == "burst":
        outcomes = executor.burst(work)
        results = [o.result for o in outcomes if o.ok]
        root = next((r for r in results if r.get("worker_id") == 0), None)
        if len(results) < ctx.workers or root is None:
            return {"centroids": None, "iterations": 0}
        return {"centroids": root["centroids"], "iterations": root["iterations"]}

    centroids = np.array(work[0]["centroids"])
    for iteration in range(params.iterations):
        stage_work = [{**w, "centroids": centroids.tolist()} for w in work]
        outcomes = executor.map(stage_work, stage=f"iteration-{iteration}")
        if not all(o.ok for o in outcomes):
            return {"centroids": None, "iterations": iteration}
        sums = sum(np.array(o.result["sums"]) for o in outcomes)
        counts = sum(np.array(o.result["counts"]) for o in outcomes)
        updated = update_centroids(centroids, sums, counts)
        shift = centroid_shift(centroids, updated)
        centroids = updated
        if shift < params.threshold:
            return {"centroids": centroids.tolist(), "iterations": iteration + 1}
    return {"centroids": centroids.tolist(), "iterations": params.iterations}


def validate(params: Params, ctx: RunContext, answer: dict) -> Validation:
    """Same start, same stopping rule, whole data in one process: centroids must agree."""
    import numpy as np

    from .lloyd import lloyd

    if answer.get("centroids") is None:
        return Validation(False, "no final centroids")
    location = dataset(params, storage.root(ctx.storage, ctx.data_dir))
    points = np.frombuffer(storage.read(location)).reshape(params.points, params.dims)
    centroids, expected_iterations = lloyd(points, initial_centroids(params, location),
                                           params.iterations, params.threshold)
    got = np.array(answer["centroids"])
    if got.shape != centroids.shape or not np.allclose(got, centroids, rtol=1e-9, atol=1e-9):
        error = np.abs(got - centroids).max() if got.shape == centroids.shape else "shape"
        return Validation(False, f"centroids differ from NumPy's Lloyd's run (max error {error})")
    if answer["iterations"] != expected_iterations:
        return Validation(False, f"{answer['iterations']} iterations, NumPy needed "
                                 f"{expected_iterations}")
    return Validation(True, f"centroids match NumPy after {expected_iterations} iterations")
