"""The run's one-row `summary.csv`: its fixed columns, the status verdict, and the writer.

The columns are the same whatever the outcome (an interrupted or failed run
leaves empty cells, never missing columns), so summaries of any runs stack
into one table. The verdict is decided here only: the experiment and resume
both call `verdict`.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from runner.rundir.files import ACTIVATIONS, SUMMARY, WORKERS, read_rows, replacing

IDENTITY_COLUMNS = ["app", "mode", "platform", "workers", "granularity", "backend",
                    "repeat_index"]
# Every step of a run, in the order they run; their times add up to `total_ms` (the
# experiment times each one, tests/faults/test_step_accounting.py checks the sum).
STEPS = ["build", "platform_start", "deploy", "run", "validate", "platform_stop", "record"]
SUMMARY_COLUMNS = [
    *IDENTITY_COLUMNS,
    "status",  # ok | failed | invalid | interrupted | error
    "message",  # one line: the answer's check, or what went wrong
    "valid", "validation",  # the app's verdict on the answer and its detail
    "makespan_ms",  # first submit to last end
    "startup_spread_ms",  # last worker start minus first (the largest over stages)
    "invoke_spread_ms",  # last accepted invocation minus first
    "activations", "failed",  # activations sent; workers with an error
    *(f"{step}_ms" for step in STEPS),
    "total_ms",  # the whole run, from the build to the summary: the sum of the steps above
    "build_cache",  # hit | miss
    "deployed",  # uploaded | unchanged
    "requests",  # HTTP requests sent to the platform
    "platform_address", "git_commit",
    "resumed",  # True once `python -m runner.resume` rewrote the run
]


def identity(cfg: DictConfig) -> dict[str, Any]:
    """What the run is, as compare groups it: burst options only where they applied."""
    burst = str(cfg.mode) == "burst"
    return {
        "app": cfg.app.name, "mode": str(cfg.mode), "platform": str(cfg.platform.name),
        "workers": cfg.workers,
        "granularity": cfg.burst.granularity if burst else None,
        "backend": str(cfg.burst.backend) if burst else None,
        "repeat_index": cfg.repeat_index,
    }


@dataclass(frozen=True)
class Verdict:
    status: str
    message: str


def verdict(workers: int, failures: list[tuple[int, str]], valid: bool, detail: str,
            unfinished: int = 0) -> Verdict:
    """The status ladder: unfinished workers, then failed ones, then a wrong answer, then ok."""
    if unfinished:
        return Verdict("interrupted", f"{unfinished} workers still unfinished")
    if failures:
        worker_id, error = failures[0]
        return Verdict("failed", f"{len(failures)} of {workers} workers failed; "
                                 f"worker {worker_id}: {error}")
    if not valid:
        return Verdict("invalid", f"wrong answer: {detail}")
    return Verdict("ok", detail)


def _numbers(rows: list[dict[str, str]], column: str) -> list[float]:
    """A column's numbers; empty cells (never reached) are left out."""
    return [float(row[column]) for row in rows if row.get(column)]


def _span(values: list[float]) -> float:
    return max(values) - min(values) if values else math.nan


def measured(run_dir: Path) -> dict[str, Any]:
    """The columns computed from the row files."""
    activations = read_rows(run_dir, ACTIVATIONS)
    workers = read_rows(run_dir, WORKERS)
    ends, submits = _numbers(activations, "end_ms"), _numbers(activations, "submit_ms")
    starts_by_stage: dict[str, list[dict[str, str]]] = defaultdict(list)
    for worker in workers:
        starts_by_stage[worker["stage"]].append(worker)
    # per stage: the workers of a multi-stage app start again at every stage
    spreads = [_span(_numbers(rows, "start_ms")) for rows in starts_by_stage.values()]
    spreads = [spread for spread in spreads if not math.isnan(spread)]
    return {
        "makespan_ms": max(ends) - min(submits) if ends and submits else math.nan,
        "invoke_spread_ms": _span(_numbers(activations, "accepted_ms")),
        "startup_spread_ms": max(spreads) if spreads else math.nan,
        "activations": len(activations),
        "failed": sum(1 for worker in workers if worker.get("error")),
    }


def _cell(value: Any) -> Any:
    """As pandas writes it: nothing for a missing or NaN value."""
    return "" if value is None or isinstance(value, float) and math.isnan(value) else value


def summarize(run_dir: Path, identity: dict[str, Any], steps: dict[str, float],
              outcome: dict[str, Any]) -> dict[str, Any]:
    """Writes `summary.csv`, also when the run failed or was interrupted; returns its row."""
    row: dict[str, Any] = {**identity, **measured(run_dir)}
    row.update({f"{name}_ms": round(ms, 3) for name, ms in steps.items()})
    row.update(outcome)
    unknown = set(row) - set(SUMMARY_COLUMNS)
    if unknown:
        raise ValueError(f"summary columns not in SUMMARY_COLUMNS: {sorted(unknown)}")
    full = {column: row.get(column) for column in SUMMARY_COLUMNS}
    with replacing(run_dir / SUMMARY) as partial, partial.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(SUMMARY_COLUMNS)
        writer.writerow([_cell(full[column]) for column in SUMMARY_COLUMNS])
    return full
