"""sleep: every worker sleeps; isolates startup and scheduling overheads from compute."""

from __future__ import annotations

from dataclasses import dataclass

from runner.apps import RunContext, Validation
from runner.config import AppConfig


@dataclass
class Params(AppConfig):
    sleep_ms: int = 1000


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"sleep_ms": params.sleep_ms} for _ in range(ctx.workers)]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    for worker_id, result in enumerate(results):
        if result is None:
            return Validation(False, f"worker {worker_id} has no result")
        if result.get("slept_ms", -1) < params.sleep_ms:
            return Validation(
                False, f"worker {worker_id} slept {result.get('slept_ms')} ms < {params.sleep_ms}"
            )
    return Validation(True, f"{len(results)} workers slept >= {params.sleep_ms} ms")
