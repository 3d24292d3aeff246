"""Benchmark: the data apps in Rust against their NumPy-based Python twins, map and burst.

CLI runs of `kmeans`, `terasort` and `pagerank` at their default sizes, each in
both languages (`app.lang`) and both modes at 8, 16 and 32 workers, interleaved
so that a slow minute of the shared machine hurts every variant alike. Every
run must be valid. Per run: `makespan_ms` (first submit to last end) and the
workers' `compute_ms` summed over the run (every stage's workers), the time
the two languages' kernels spend; the targets compare the medians at 32
workers: Rust at most Python's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .cli import run_cli
from .common import BenchError, Context, Outcome, Target, interleaved, medians, ratio, save

NAME = "rust_vs_python"
APPS = ("kmeans", "terasort", "pagerank")
LANGS = ("python", "rust")
MODES = ("burst", "map")
SIZES = (8, 16, 32)
METRICS = ["makespan_ms", "compute_ms", "comm_ms", "read_ms", "write_ms", "activations"]
PHASES = ("compute_ms", "comm_ms", "read_ms", "write_ms")


def _row(app: str, lang: str, mode: str, workers: int, rep: int, run_dir: Path) -> dict:
    """One run's figures; the phase columns are sums over every worker of every stage."""
    result = run_cli([f"app={app}", f"app.lang={lang}", f"mode={mode}",
                      f"workers={workers}"], run_dir)
    summary, rows = result.summary, result.workers
    if summary["valid"] != True:  # noqa: E712 (a numpy bool from the CSV)
        raise BenchError(f"{app} {lang} {mode} w{workers}: not valid: {summary['validation']}")
    phases = {phase: float(rows[phase].sum()) if phase in rows else 0.0 for phase in PHASES}
    return {"app": app, "lang": lang, "mode": mode, "workers": workers, "rep": rep,
            "makespan_ms": summary["makespan_ms"], "activations": summary["activations"],
            "validation": summary["validation"], **phases}


def run(ctx: Context) -> Outcome:
    scratch = ctx.scratch(NAME)
    plan = [(app, lang, mode, workers) for app in APPS for workers in SIZES
            for mode in MODES for lang in LANGS]
    rows = [_row(app, lang, mode, workers, rep,
                 scratch / f"{app}_{lang}_{mode}_w{workers}_r{rep}")
            for rep, (app, lang, mode, workers) in interleaved(ctx.repetitions(1), plan)]
    raw = pd.DataFrame(rows)
    table = medians(raw, ["app", "mode", "workers", "lang"], METRICS)
    save(ctx, NAME, raw, _plot(table))
    return Outcome(NAME, "Rust against Python: the data apps, map and burst", table,
                   _targets(table),
                   ["every run validated by the app's own check (NumPy references, "
                    "TeraValidate)",
                    "compute_ms, comm_ms, read_ms, write_ms: summed over the run's workers "
                    "and stages (medians over repetitions)"])


def _targets(table: pd.DataFrame) -> list[Target]:
    """At 32 workers, per app and mode: Rust's makespan and compute at most Python's."""
    targets = []
    at_32 = table[table["workers"] == max(SIZES)].set_index(["app", "mode", "lang"])
    for app in APPS:
        for mode in MODES:
            for metric in ("makespan_ms", "compute_ms"):
                rust = at_32.loc[(app, mode, "rust"), metric]
                python = at_32.loc[(app, mode, "python"), metric]
                targets.append(Target(
                    f"{app} {mode}, 32 workers: Rust {metric} <= Python's",
                    f"{rust:.0f} vs {python:.0f} ms (x{ratio(rust, python):.2f})",
                    bool(rust <= python)))
    return targets


def _plot(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(11, 7))
    grid = figure.subplots(2, len(APPS), squeeze=False)
    for column, app in enumerate(APPS):
        for line, metric in enumerate(("makespan_ms", "compute_ms")):
            axes = grid[line][column]
            for mode in MODES:
                for lang, style in zip(LANGS, ("--", "-"), strict=True):
                    series = table[(table["app"] == app) & (table["mode"] == mode)
                                   & (table["lang"] == lang)]
                    axes.plot(series["workers"], series[metric], style, marker="o",
                              label=f"{lang} {mode}")
            axes.set_title(f"{app}: {metric}")
            axes.set_xlabel("workers")
            axes.set_xticks(SIZES)
            axes.set_ylabel("milliseconds (median)")
            axes.legend(fontsize="small")
    figure.tight_layout()
    return figure
