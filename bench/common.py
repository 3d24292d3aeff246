"""What every benchmark shares: its output directory, the order of repetitions, statistics,
tables, and the record of which targets were met.

The machine is shared and noisy, so a benchmark never trusts one number: it
repeats each variant, interleaves the variants so that a slow minute hurts all
of them alike, and reports medians and ratios measured in the same run.
"""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

PROJECT = Path(__file__).resolve().parent.parent
Variant = TypeVar("Variant")


class BenchError(RuntimeError):
    """A benchmark could not measure what it meant to, e.g. because an activation failed."""


@dataclass(frozen=True)
class Context:
    """Where a benchmark writes and how hard it tries."""

    out_dir: Path
    full: bool
    reps: int | None  # --reps, overriding every benchmark's own default
    baseline: str | None = None  # --baseline: a git revision to measure beside this code

    def repetitions(self, short: int = 3) -> int:
        """Repetitions of each variant: `short` is what the benchmark can afford within the
        short default's time budget; --full takes 5 of everything."""
        if self.reps is not None:
            return self.reps
        return 5 if self.full else short

    def scratch(self, name: str) -> Path:
        """Run directories and platform logs of one benchmark, kept for a post-mortem."""
        path = self.out_dir / "runs" / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Target:
    """One speed goal of the project and what this run measured against it."""

    goal: str
    measured: str
    met: bool | None  # None: could not be measured in this run


@dataclass
class Outcome:
    """What a benchmark prints and puts into the report."""

    name: str
    title: str
    table: pd.DataFrame
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def interleaved(reps: int, variants: Sequence[Variant]) -> Iterator[tuple[int, Variant]]:
    """Every variant once per repetition, the order rotated each time so that no variant
    always runs first (the first one after a change often pays for warming caches)."""
    for rep in range(reps):
        shift = rep % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            yield rep, variant


def p95(values: Iterable[float]) -> float:
    data = np.asarray(list(values), dtype=float)
    return float(np.percentile(data, 95)) if len(data) else math.nan


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.nan


def medians(rows: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """Median of each metric over the repetitions of each variant, in first-seen order."""
    grouped = rows.groupby(keys, sort=False, dropna=False)
    table = grouped[metrics].median().reset_index()
    table["runs"] = grouped.size().to_numpy()
    return table


def save(ctx: Context, name: str, rows: pd.DataFrame, figure: Figure) -> None:
    """Every repetition's raw row goes to the CSV, so medians can be recomputed later."""
    rows.to_csv(ctx.out_dir / f"{name}.csv", index=False)
    figure.savefig(ctx.out_dir / f"{name}.png", dpi=110, bbox_inches="tight")


def cell(value: object) -> str:
    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


def markdown(table: pd.DataFrame) -> str:
    """A GitHub-flavoured table (pandas would need the optional `tabulate` for this)."""
    header = [str(column) for column in table.columns]
    body = [[cell(value) for value in row] for row in table.itertuples(index=False)]
    widths = [max(len(text) for text in column) for column in zip(header, *body, strict=True)]
    lines = [header, ["-" * width for width in widths], *body]
    return "\n".join(
        "| " + " | ".join(text.ljust(width) for text, width in zip(line, widths, strict=True))
        + " |"
        for line in lines
    )


def machine() -> dict[str, str]:
    """What a reader needs to compare these figures with their own."""
    model = "unknown"
    memory = "unknown"
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
                break
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "cpu": model, "cores": str(os.cpu_count()), "memory": memory,
        "python": platform.python_version(), "os": platform.platform(terse=True),
        "load average at start": load,
    }
