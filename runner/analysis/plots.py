"""The figures of a run and of a comparison, drawn as PNG files.

Figures are plain `matplotlib.figure.Figure` objects on an Agg canvas, never
pyplot: no screen or GUI backend is needed, and no global registry keeps
figures alive in a long process. Each function raises `NoData` (with the
reason) when its input holds nothing to draw, so callers can skip a figure in
one line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from runner.rundir import files

BREAKDOWN_PARTS = ["compute_ms", "comm_ms", "read_ms", "write_ms"]
TIMES = ["submit_ms", "start_ms", "end_ms"]


class NoData(ValueError):
    """The input has nothing this figure could show."""


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=100)
    return path


def _rows_with(runs: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [column for column in columns if column not in runs]
    rows = pd.DataFrame() if missing else runs.dropna(subset=columns)
    if rows.empty:
        raise NoData(f"no runs with {', '.join(columns)}")
    return rows


def _median_lines(figure: Figure, rows: pd.DataFrame, x: str, y: str, series: str) -> list[Line2D]:
    """One line per series value: the median of y at each x, min to max shaded."""
    axes = figure.subplots()
    lines = []
    for name, group in rows.groupby(series, sort=True):
        stats = group.groupby(x)[y].agg(["median", "min", "max"]).sort_index()
        (line,) = axes.plot(stats.index, stats["median"], marker="o", label=str(name))
        axes.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(),
                          alpha=0.2, linewidth=0)
        lines.append(line)
    axes.set_xticks(sorted(rows[x].unique()))
    axes.set_xlabel(x)
    axes.set_ylabel(f"{y} (median; min to max shaded)")
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(title=series)
    return lines


def makespan_vs_workers(runs: pd.DataFrame, path: Path) -> list[Line2D]:
    """How the time from first submit to last end grows with N, one line per mode."""
    rows = _rows_with(runs, ["mode", "workers", "makespan_ms"])
    figure = _figure(7, 4.5)
    lines = _median_lines(figure, rows, "workers", "makespan_ms", "mode")
    figure.suptitle("makespan vs workers")
    _save(figure, path)
    return lines


def startup_spread_vs_granularity(runs: pd.DataFrame, path: Path) -> list[Line2D]:
    """How far apart burst workers start, by pack size, one line per N.

    A granularity of null means one pack for all workers, so it is drawn at N.
    """
    rows = _rows_with(runs, ["mode", "workers", "startup_spread_ms"])
    burst = rows[rows["mode"] == "burst"].copy()
    if burst.empty:
        raise NoData("no burst runs with startup_spread_ms")
    given = burst["granularity"] if "granularity" in burst else pd.Series(index=burst.index)
    burst["granularity"] = given.astype("float64").fillna(burst["workers"]).clip(
        upper=burst["workers"])
    figure = _figure(7, 4.5)
    lines = _median_lines(figure, burst, "granularity", "startup_spread_ms", "workers")
    figure.suptitle("burst: startup spread vs granularity (workers per pack)")
    _save(figure, path)
    return lines


def breakdown(parts: pd.DataFrame, path: Path) -> list[BarContainer]:
    """Stacked bars, one per run (index = label), of its workers' mean time per part."""
    if parts.empty:
        raise NoData(f"no workers.csv with any of {', '.join(BREAKDOWN_PARTS)}")
    figure = _figure(8, 1.5 + 0.4 * len(parts))
    axes = figure.subplots()
    labels = [str(label) for label in parts.index]
    left = pd.Series(0.0, index=parts.index)
    bars = []
    for column in parts.columns:
        values = parts[column].fillna(0.0)
        bars.append(axes.barh(labels, values, left=left, label=column))
        left = left + values
    axes.invert_yaxis()
    axes.set_xlabel("mean ms per worker")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    figure.suptitle("where workers spend their time")
    _save(figure, path)
    return bars


def _timeline_rows(run_dir: Path) -> pd.DataFrame:
    """workers.csv rows, each with the submit time of the activation that ran it."""
    workers = files.read_table(run_dir, files.WORKERS)
    if workers.empty:
        raise NoData(f"no worker rows in {run_dir}")
    workers = workers.assign(activation_id=workers["activation_id"].astype(str),
                             stage=workers["stage"].astype(str))
    activations = files.read_table(run_dir, files.ACTIVATIONS)
    if activations.empty:
        return workers.assign(submit_ms=float("nan"))
    submits = (activations.dropna(subset=["activation_id"])
               .astype({"activation_id": str, "stage": str})
               .drop_duplicates(["stage", "activation_id"])[["stage", "activation_id",
                                                             "submit_ms"]])
    return workers.merge(submits, on=["stage", "activation_id"], how="left")


def _title(run_dir: Path) -> str:
    summary = files.read_table(run_dir, files.SUMMARY)
    if summary.empty or not {"app", "mode", "workers", "makespan_ms"} <= set(summary):
        return run_dir.name
    row = summary.iloc[0]
    return (f"{row['app']} {row['mode']}, {row['workers']} workers: "
            f"makespan {row['makespan_ms']:.0f} ms")


def _segments(rows: pd.DataFrame) -> tuple[list[str], list[Line2D]]:
    """Colours of the running segments and their legend: failed red, burst packs apart."""
    palette = [f"C{i}" for i in range(10) if i != 3]  # C3 is the red of failures
    failed = rows["error"].notna() if "error" in rows else pd.Series(False, index=rows.index)
    packs = rows["pack"] if "pack" in rows else pd.Series(float("nan"), index=rows.index)
    colours = ["C3" if bad else ("C0" if pd.isna(pack) else palette[int(pack) % len(palette)])
               for bad, pack in zip(failed, packs, strict=True)]
    running = "running (colour = pack)" if packs.notna().any() else "running"
    legend = [Line2D([], [], color="C0", linewidth=3, label=running)]
    if failed.any():
        legend.append(Line2D([], [], color="C3", linewidth=3, label="failed"))
    return colours, legend


def timeline(run_dir: Path, path: Path | None = None) -> Path:
    """One horizontal line per worker: grey from submit to start, thick from start to end.

    Times are seconds since the first submit; several stages of one worker
    share its line.
    """
    rows = _timeline_rows(run_dir)
    times = rows.reindex(columns=TIMES).astype("float64")
    if times.isna().all(axis=None):
        raise NoData(f"no worker times in {run_dir}")
    seconds = (times - times.min().min()) / 1000
    worker = rows["worker_id"]
    colours, running = _segments(rows)
    figure = _figure(9, min(2.5 + 0.1 * worker.nunique(), 14))
    axes = figure.subplots()
    axes.hlines(worker, seconds["submit_ms"], seconds["start_ms"], color="0.7", linewidth=1)
    axes.hlines(worker, seconds["start_ms"], seconds["end_ms"], colors=colours, linewidth=3)
    axes.scatter(seconds["submit_ms"], worker, marker="|", color="0.3", label="submit")
    axes.scatter(seconds["start_ms"], worker, marker=">", s=12, color="k", label="start")
    axes.scatter(seconds["end_ms"], worker, marker="o", s=12, color="k", label="end")
    axes.legend(handles=[*axes.get_legend_handles_labels()[0], *running], loc="upper left",
                bbox_to_anchor=(1.01, 1), frameon=False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("seconds since first submit")
    axes.set_ylabel("worker")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(_title(run_dir))
    return _save(figure, path or run_dir / files.TIMELINE)


def write_timeline(run_dir: Path) -> Path | None:
    """`timeline.png` in the run directory, or None when there is nothing (readable) to draw.

    Called at the end of every run: a missing picture must never turn a
    finished run into a failed one.
    """
    try:
        return timeline(run_dir)
    except (OSError, ValueError):  # NoData, and unreadable or half-written CSVs
        return None
