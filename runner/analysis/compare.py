"""Comparison of runs: one table of medians over the repeats of each variant, and figures.

`compare_runs` joins the runs found under run and sweep directories
(runner/analysis/runs.py), finds the keys that make variants and the settings
held fixed (runner/analysis/grouping.py), and reports each metric's median and
min/max over a variant's ok runs. `write` saves the table, the runs and the
figures (runner/analysis/figures.py) into one directory. The command line is
runner/compare.py; notebooks call the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from runner.analysis import grouping
from runner.analysis.runs import CompareError, load_runs, load_workers

DEFAULT_METRICS = ["makespan_ms", "startup_spread_ms", "total_ms", "failed", "valid"]
FORMATS = ["png", "pdf", "svg"]
TIMELINES = "timelines"  # timelines/<run_id>.png; runs.csv maps run_id to the run


@dataclass
class Comparison:
    """Runs, how they were grouped, and the table of medians: what the CLI prints and saves."""

    runs: pd.DataFrame
    by: list[str]
    metrics: list[str]
    fixed: dict[str, Any]
    table: pd.DataFrame
    include_failed: bool = False
    workers: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def counted_runs(self) -> pd.DataFrame:
        return self.runs[grouping.counted(self.runs, self.include_failed)]

    @property
    def counted_workers(self) -> pd.DataFrame:
        if self.workers.empty:
            return self.workers
        return self.workers[self.workers["run_id"].isin(self.counted_runs["run_id"])]


def choose(given: str | list[str] | None, available: Iterable[str], default: list[str],
           what: str) -> list[str]:
    """The names asked for, each checked against what the runs have."""
    if given is None:
        return default
    chosen = [name for name in (given.split(",") if isinstance(given, str) else given) if name]
    known = list(available)
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise CompareError(f"unknown {what} {','.join(unknown) or repr(given)}; "
                           f"choose from {', '.join(known)}")
    return chosen


def _worker_metrics(runs: pd.DataFrame, workers: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Adds per-run means of workers.csv columns named as metrics (throughput_mib_s, ...)."""
    for name in names:
        if name not in runs and name in workers:
            means = pd.to_numeric(workers[name], errors="coerce").groupby(
                workers["run_id"]).mean()
            runs[name] = runs["run_id"].map(means)
    return runs


def compare_runs(paths: Iterable[str | Path], by: str | list[str] | None = None,
                 metrics: str | list[str] | None = None,
                 include_failed: bool = False) -> Comparison:
    """Groups the runs under `paths` into variants and takes medians of `metrics` over them.

    `by` replaces the keys found to vary; metrics may name summary columns or
    workers.csv columns (averaged over each run's workers first).
    """
    runs = load_runs(paths)
    workers = load_workers(runs)
    worker_columns = [c for c in workers.columns if c not in runs]
    chosen = choose(metrics, [*runs.columns, *worker_columns],
                    [m for m in DEFAULT_METRICS if m in runs], "metric")
    if not chosen:
        raise CompareError(f"the runs have none of the metrics {', '.join(DEFAULT_METRICS)} "
                           "(no summary.csv?)")
    runs = _worker_metrics(runs, workers, chosen)
    keys = choose(by, runs.columns, grouping.varied_keys(runs), "key")
    table = grouping.aggregate(runs, keys, chosen, include_failed)
    return Comparison(runs, keys, chosen, grouping.fixed_settings(runs), table, include_failed,
                      workers)


def _number(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"


def format_table(comparison: Comparison) -> str:
    """The comparison as text: the settings, then `median [min, max]` per metric and variant."""
    table, by = comparison.table, comparison.by
    shown = table[[*by, "runs"]].astype(object)
    shown = shown.where(shown.notna(), "-")
    if table["left_out"].any():
        shown["left out"] = table["left_out_statuses"]
    for metric in comparison.metrics:
        shown[metric] = [
            _number(mid) if lo == hi or pd.isna(lo) else
            f"{_number(mid)} [{_number(lo)}, {_number(hi)}]"
            for mid, lo, hi in zip(*(table[f"{metric}_{s}"] for s in grouping.STATS),
                                   strict=True)
        ]
    which = "all runs" if comparison.include_failed else "the ok runs"
    header = [f"{len(comparison.runs)} runs; median [min, max] over {which} of each variant",
              f"varied: {', '.join(by) or '-'}",
              f"fixed: {grouping.describe(comparison.fixed) or '-'}"]
    if table["left_out"].any():
        header.append("runs not ok are left out of the medians (--include-failed counts them)")
    return "\n".join([*header, shown.to_string(index=False)])


def saved_table(comparison: Comparison) -> pd.DataFrame:
    """comparison.csv: the table, plus which keys varied and which settings were fixed."""
    return comparison.table.assign(varied=",".join(comparison.by),
                                   fixed=grouping.describe(comparison.fixed))


def _numbers(values: pd.Series) -> bool:
    """Whether a key's values are numbers (so it can be an x axis): some, and all numeric."""
    given = values.dropna()
    return len(given) > 0 and pd.to_numeric(given, errors="coerce").notna().all()


def _figures(comparison: Comparison) -> list[tuple[str, Callable[[], Any]]]:
    """Name and drawing of every figure the comparison may have, in the order written."""
    runs, workers = comparison.counted_runs, comparison.counted_workers
    by, fixed = comparison.by, comparison.fixed
    from runner.analysis import figures  # matplotlib only when figures are drawn

    numeric = [key for key in by if key != "app" and _numbers(runs[key])]
    against = list(dict.fromkeys(["workers", *numeric]))
    plotted = ["makespan_ms", *(m for m in comparison.metrics
                                if m not in DEFAULT_METRICS and m != "makespan_ms")]
    drawn: list[tuple[str, Callable[[], Any]]] = [
        (f"{metric}_vs_{x}", lambda metric=metric, x=x: figures.metric_against(
            runs, x, metric, [k for k in by if k not in (x, "app")], fixed))
        for metric in plotted for x in against]
    drawn += [
        ("speedup_vs_workers", lambda: figures.speedup(runs, by, fixed)),
        ("startup_spread_vs_granularity", lambda: figures.startup_spread(runs, by, fixed)),
        ("start_latency_box", lambda: figures.start_latency_boxes(workers, by, fixed)),
        ("start_latency_cdf", lambda: figures.start_latency_cdf(workers, by, fixed)),
        ("running_at_once", lambda: figures.concurrency(workers, runs, by, fixed)),
        ("breakdown", lambda: figures.breakdown(workers, by, fixed)),
    ]
    return drawn


def write(comparison: Comparison, out: Path, formats: list[str]) -> list[str]:
    """comparison.csv, runs.csv and every figure the data allows; one note per file or skip."""
    from runner.analysis import plots

    out.mkdir(parents=True, exist_ok=True)
    saved_table(comparison).to_csv(out / "comparison.csv", index=False)
    comparison.runs.to_csv(out / "runs.csv", index=False)
    notes = [f"wrote {out / 'comparison.csv'}", f"wrote {out / 'runs.csv'}"]
    for name, draw in _figures(comparison):
        try:
            figure = draw()
        except plots.NoData as reason:
            notes.append(f"skipped {name}: {reason}")
            continue
        for suffix in formats:
            notes.append(f"wrote {plots.save(figure, out / f'{name}.{suffix}')}")
    notes += _timelines(comparison, out / TIMELINES, formats)
    return notes


def _timelines(comparison: Comparison, folder: Path, formats: list[str]) -> list[str]:
    """One timeline per run, named by its run_id, all on the time axis of the longest."""
    from runner.analysis import plots

    lengths = {}
    for run_id, run in zip(comparison.runs["run_id"], comparison.runs["run"], strict=True):
        try:
            length = plots.duration_s(Path(run))
        except (OSError, ValueError):  # NoData, and unreadable or half-written CSVs
            continue
        if math.isfinite(length):
            lengths[run_id] = length
    if not lengths:
        return ["skipped timelines: no run has worker times"]
    folder.mkdir(exist_ok=True)
    longest = max(lengths.values()) * 1.02
    for run_id in lengths:
        run = comparison.runs.loc[comparison.runs["run_id"] == run_id, "run"].iloc[0]
        for suffix in formats:
            plots.timeline(Path(run), folder / f"{run_id}.{suffix}", until_s=longest)
    return [f"wrote {len(lengths)} timelines into {folder} (file names: run_id in runs.csv)"]
