"""hello: the smallest app that proves map and burst plumbing end to end."""

from __future__ import annotations

from dataclasses import dataclass

from runner.apps import RunContext, Validation
from runner.config import AppConfig


@dataclass
class Params(AppConfig):
    greeting: str = "hello"


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"greeting": params.greeting} for _ in range(ctx.workers)]


def expected_broadcast(params: Params) -> str:
    return f"{params.greeting} from worker 0"


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    """Map: every worker greets with its own id. Burst: ring tokens and the broadcast arrive."""
    workers = len(results)
    for worker_id, result in enumerate(results):
        if result is None:
            return Validation(False, f"worker {worker_id} has no result")
        if result.get("worker_id") != worker_id:
            return Validation(False, f"worker {worker_id} reports id {result.get('worker_id')}")
        if ctx.mode == "map":
            if result.get("message") != f"{params.greeting} from worker {worker_id}":
                return Validation(False, f"worker {worker_id} greeted {result.get('message')!r}")
            continue
        left = (worker_id - 1) % workers
        if result.get("token_from_left") != left:
            return Validation(
                False, f"worker {worker_id} got ring token {result.get('token_from_left')}, "
                f"expected {left}"
            )
        if result.get("broadcast") != expected_broadcast(params):
            got = result.get("broadcast")
            return Validation(False, f"worker {worker_id} got broadcast {got!r}")
    return Validation(True, f"{workers} workers answered correctly")
