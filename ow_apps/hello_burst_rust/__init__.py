"""hello_burst_rust: Rust workers report their id, pack and burst size; no messages between them.

The smallest check that a Rust action's loop reads burst pack lines right: every
worker answers once, with its own id, and the workers of a pack form one
contiguous range of ids. Runs in map mode too (no pack, no burst size).
"""

from __future__ import annotations

from dataclasses import dataclass

from runner.apps import RunContext, Validation
from runner.config import AppConfig, Lang


@dataclass
class Params(AppConfig):
    lang: Lang = Lang.rust
    action: str | None = "rust"  # the same map-signature crate in both modes (no middleware)
    greeting: str = "hello"


def payloads(params: Params, ctx: RunContext) -> list[dict]:
    return [{"greeting": params.greeting} for _ in range(ctx.workers)]


def validate(params: Params, ctx: RunContext, results: list[dict | None]) -> Validation:
    """Ids and greetings per worker; in burst mode the burst size and contiguous packs."""
    workers = len(results)
    packs: dict[str, list[int]] = {}
    for worker_id, result in enumerate(results):
        if result is None:
            return Validation(False, f"worker {worker_id} has no result")
        if result.get("worker_id") != worker_id:
            return Validation(False, f"worker {worker_id} reports id {result.get('worker_id')}")
        if result.get("message") != f"{params.greeting} from worker {worker_id}":
            return Validation(False, f"worker {worker_id} greeted {result.get('message')!r}")
        if ctx.mode == "map":
            continue
        if result.get("burst_size") != workers:
            return Validation(False, f"worker {worker_id} reports burst size "
                              f"{result.get('burst_size')}, expected {workers}")
        packs.setdefault(str(result.get("group_id")), []).append(worker_id)
    for group, members in packs.items():
        if members != list(range(members[0], members[0] + len(members))):
            return Validation(False, f"pack {group} holds workers {members}, not a range")
    where = f" in {len(packs)} packs" if packs else ""
    return Validation(True, f"{workers} workers answered correctly{where}")
