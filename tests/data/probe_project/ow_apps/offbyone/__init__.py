"""offbyone: doubles numbers, with a deliberate bug, so that a run's answer is wrong.

The action answers 2x + 1; validation expects 2x. Tests use it to see what a
user sees when an app's answer is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.apps import AppConfig, RunContext, Validation


@dataclass
class Params(AppConfig):
    base: int = 4


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"x": params.base + worker} for worker in range(ctx.workers)]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    for worker, result in enumerate(results):
        x = params.base + worker
        if result is None or result.get("doubled") != 2 * x:
            got = None if result is None else result.get("doubled")
            return Validation(False, f"worker {worker} doubled {x} into {got}, expected {2 * x}")
    return Validation(True, "every number doubled")
