"""A run's timeline, and the drawing basics every figure shares.

Figures are plain `matplotlib.figure.Figure` objects on an Agg canvas, never
pyplot: no screen or GUI backend is needed, and no global registry keeps
figures alive in a long process. Each drawing function raises `NoData` (with
the reason) when its input holds nothing to draw, so callers can skip a figure
in one line. The comparison's figures are in runner/analysis/figures.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from runner.rundir import files

TIMES = ["submit_ms", "start_ms", "end_ms"]


class NoData(ValueError):
    """The input has nothing this figure could show."""


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, path: Path) -> Path:
    """Writes the figure in the format its suffix names (png, pdf, svg)."""
    figure.savefig(path, dpi=100)
    return path


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
    packs = ""
    if row["mode"] == "burst":
        size = "all" if pd.isna(row.get("granularity")) else f"{row['granularity']:.0f}"
        packs = f", {size} per pack, {row.get('backend')} backend"
    return (f"{row['app']} {row['mode']}, {row['workers']} workers{packs}: "
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


def _stage_starts(rows: pd.DataFrame, seconds: pd.DataFrame) -> pd.Series:
    """Each stage's first submit (or start), in order: where a multi-stage run moves on."""
    first = seconds["submit_ms"].fillna(seconds["start_ms"]).groupby(rows["stage"]).min()
    return first.dropna().sort_values()


def timeline(run_dir: Path, path: Path | None = None, until_s: float | None = None) -> Path:
    """One horizontal line per worker: grey from submit to start, thick from start to end.

    Times are seconds since the first submit; several stages of one worker
    share its line, and a dashed line marks where each later stage begins.
    `until_s` fixes the time axis, so that timelines compared side by side
    share their scale.
    """
    rows = _timeline_rows(run_dir)
    times = rows.reindex(columns=TIMES).astype("float64")
    if times.isna().all(axis=None):
        raise NoData(f"no worker times in {run_dir}")
    seconds = (times - times.min().min()) / 1000
    worker = rows["worker_id"]
    colours, running = _segments(rows)
    figure = new_figure(9, min(2.5 + 0.1 * worker.nunique(), 14))
    axes = figure.subplots()
    axes.hlines(worker, seconds["submit_ms"], seconds["start_ms"], color="0.7", linewidth=1)
    axes.hlines(worker, seconds["start_ms"], seconds["end_ms"], colors=colours, linewidth=3)
    axes.scatter(seconds["submit_ms"], worker, marker="|", color="0.3", label="submit")
    axes.scatter(seconds["start_ms"], worker, marker=">", s=12, color="k", label="start")
    axes.scatter(seconds["end_ms"], worker, marker="o", s=12, color="k", label="end")
    stages = _stage_starts(rows, seconds)
    for stage, begins in list(stages.items())[1:]:
        axes.axvline(begins, color="0.4", linestyle="--", linewidth=0.8)
        axes.annotate(f"{stage} ", (begins, 1), xycoords=("data", "axes fraction"),
                      rotation=90, ha="right", va="top", fontsize=7, color="0.3")
    axes.legend(handles=[*axes.get_legend_handles_labels()[0], *running], loc="upper left",
                bbox_to_anchor=(1.01, 1), frameon=False)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if until_s is not None:
        axes.set_xlim(0, until_s)
    axes.set_xlabel("seconds since first submit")
    axes.set_ylabel("worker")
    axes.grid(axis="x", alpha=0.3)
    axes.set_title(_title(run_dir))
    return save(figure, path or run_dir / files.TIMELINE)


def duration_s(run_dir: Path) -> float:
    """Seconds from the run's first submit to its last end, the length of its timeline."""
    times = _timeline_rows(run_dir).reindex(columns=TIMES).astype("float64")
    return float((times.max().max() - times.min().min()) / 1000)


def write_timeline(run_dir: Path) -> Path | None:
    """`timeline.png` in the run directory, or None when there is nothing (readable) to draw.

    Called at the end of every run: a missing picture must never turn a
    finished run into a failed one.
    """
    partial = run_dir / f".partial-{files.TIMELINE}"  # the picture appears whole or not at all
    try:
        timeline(run_dir, partial)
        return partial.replace(run_dir / files.TIMELINE)
    except (OSError, ValueError):  # NoData, and unreadable or half-written CSVs
        partial.unlink(missing_ok=True)
        return None
