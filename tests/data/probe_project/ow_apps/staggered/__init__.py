"""staggered: worker i answers after i * step_ms, so a run's rows arrive one by one."""

from __future__ import annotations

from dataclasses import dataclass

from runner.apps import AppConfig, RunContext, Validation


@dataclass
class Params(AppConfig):
    step_ms: int = 1000


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"sleep_ms": worker * params.step_ms} for worker in range(ctx.workers)]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    missing = [worker for worker, result in enumerate(results) if result is None]
    if missing:
        return Validation(False, f"workers {missing} have no result")
    return Validation(True, "every worker slept its turn")
