"""mcpi: Monte Carlo estimate of pi, an app living in the user's own project.

Every worker throws `samples` seeded darts at the unit square and counts those
inside the quarter circle. Map: each worker reports its count. Burst: the
counts are summed with `reduce` and worker 0 reports the total too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ow_apps.mcpi.darts import hits

from runner.apps import AppConfig, RunContext, Validation


@dataclass
class Params(AppConfig):
    include: list[str] = field(default_factory=lambda: ["darts.py", "../phases.py"])
    samples: int = 20_000  # darts per worker
    seed: int = 7


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"samples": params.samples, "seed": params.seed + worker}
            for worker in range(ctx.workers)]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    """Each count is recomputed here; in burst mode worker 0's total must be their sum."""
    expected = [hits(params.samples, params.seed + worker) for worker in range(ctx.workers)]
    for worker, result in enumerate(results):
        if result is None:
            return Validation(False, f"worker {worker} has no result")
        if result["hits"] != expected[worker]:
            return Validation(False, f"worker {worker} counted {result['hits']}, "
                                     f"expected {expected[worker]}")
    total = sum(expected)
    if ctx.mode == "burst" and results[0]["total"] != total:
        return Validation(False, f"reduced total {results[0]['total']}, expected {total}")
    estimate = 4 * total / (params.samples * ctx.workers)
    return Validation(True, f"pi ~ {estimate:.4f} from {params.samples * ctx.workers} darts")
