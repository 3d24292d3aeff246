"""The comparison's figures: what the burst literature plots, from the run and worker tables.

Every figure takes the runs that entered the medians (runner/analysis/grouping.py
decides which), draws one subplot per app when several apps are compared, and
titles itself with the settings held fixed, so a figure read alone still says
what it shows. Each returns the Figure; the caller saves it in every format
asked for. A figure whose data is absent raises `plots.NoData`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from runner.analysis import grouping
from runner.analysis.plots import NoData, new_figure

# What a worker's time is spent on, in the order bars stack: waiting to start, then the
# phases the apps report (ow_apps/phases.py).
BREAKDOWN_PARTS = ["start_latency_ms", "read_ms", "compute_ms", "comm_ms", "write_ms"]
BREAKDOWN_NAMES = {"start_latency_ms": "wait for start", "read_ms": "read",
                   "compute_ms": "compute", "comm_ms": "communicate", "write_ms": "write"}
# The settings that make a burst run a burst variant; map runs have none of them.
BURST_KEYS = ("granularity", "backend")


def _apps(rows: pd.DataFrame) -> list[object]:
    return sorted(rows["app"].dropna().unique()) if "app" in rows else [None]


def _app_axes(rows: pd.DataFrame, width: float, height: float) -> list[tuple[object, Axes]]:
    """One subplot per app, side by side (at most three a row)."""
    apps = _apps(rows)
    columns = min(len(apps), 3)
    figure = new_figure(width * columns, height * math.ceil(len(apps) / columns))
    grid = figure.subplots(math.ceil(len(apps) / columns), columns, squeeze=False).ravel()
    for extra in grid[len(apps):]:
        extra.set_visible(False)
    return list(zip(apps, grid, strict=False))


def _of_app(rows: pd.DataFrame, app: object) -> pd.DataFrame:
    return rows if app is None else rows[rows["app"] == app]


def _finish(figure: Figure, title: str, fixed: dict, note: str = "") -> Figure:
    shown = {key: value for key, value in fixed.items() if key != "app"}
    app = f"{fixed['app']}: " if "app" in fixed else ""
    lines = [f"{app}{title}", grouping.describe(shown), note]
    figure.suptitle("\n".join(line for line in lines if line), fontsize=10)
    return figure


def _label_axes(axes: Axes, app: object, x: str, y: str) -> None:
    axes.set_xlabel(x)
    axes.set_ylabel(y)
    axes.grid(alpha=0.3)
    if app is not None:
        axes.set_title(str(app), fontsize=10)


def _colours(count: int) -> list[object]:
    """The default cycle for a few lines; past ten, a sequential map so key order stays visible."""
    if count <= 10:
        return [f"C{index}" for index in range(count)]
    return list(colormaps["viridis"](np.linspace(0, 0.95, count)))


def _legend(axes: Axes, count: int) -> None:
    """Inside the axes for a few entries; outside on the right, in columns, for many."""
    if count <= 10:
        axes.legend(fontsize=7)
        return
    axes.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False,
                ncol=math.ceil(count / 25))


def _legend_width(count: int) -> float:
    return 0 if count <= 10 else 2.2 * math.ceil(count / 25)


def _n_note(counts: pd.Series) -> tuple[str, bool]:
    """`n = 3 runs per point` when every point has as many runs, else annotate each point."""
    values = counts.unique()
    if len(values) == 1:
        return f"n = {values[0]} run{'s' if values[0] != 1 else ''} per point", False
    return "n runs per point annotated", True


def _numeric(rows: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(rows[column], errors="coerce").astype("float64")


def metric_against(runs: pd.DataFrame, x: str, metric: str, series: list[str],
                   fixed: dict) -> Figure:
    """The median of `metric` against `x`, one line per variant of `series`, min-max shaded."""
    rows = runs.assign(_x=_numeric(runs, x), _y=_numeric(runs, metric)).dropna(
        subset=["_x", "_y"])
    if rows.empty:
        raise NoData(f"no runs with both {x} and {metric}")
    rows = rows.assign(_series=grouping.labels(rows, series))
    stats = rows.groupby(["app", "_series", "_x"] if "app" in rows else ["_series", "_x"],
                         dropna=False)["_y"].agg(["median", "min", "max", "count"])
    note, annotate = _n_note(stats["count"])
    panels = _app_axes(rows, 6.5 + _legend_width(rows["_series"].nunique()), 4.5)
    for app, axes in panels:
        mine = _of_app(rows, app)
        names = grouping.sort_runs(mine, series)["_series"].unique()
        for name, colour in zip(names, _colours(len(names)), strict=True):
            line = mine[mine["_series"] == name].groupby("_x")["_y"].agg(
                ["median", "min", "max", "count"]).sort_index()
            (drawn,) = axes.plot(line.index, line["median"], marker="o", label=str(name),
                                 color=colour)
            axes.fill_between(line.index, line["min"], line["max"], color=drawn.get_color(),
                              alpha=0.2, linewidth=0)
            if annotate:
                for at, (median, count) in line[["median", "count"]].iterrows():
                    axes.annotate(f"n={int(count)}", (at, median), textcoords="offset points",
                                  xytext=(3, 4), fontsize=7, color=drawn.get_color())
        axes.set_xticks(sorted(mine["_x"].unique()))
        axes.set_ylim(bottom=0)
        _label_axes(axes, app if len(panels) > 1 else None, x,
                    f"{metric} (median; min to max shaded)")
        _legend(axes, len(names))
    return _finish(panels[0][1].figure, f"{metric} against {x}", fixed, note)


def _burst_keys(by: list[str]) -> list[str]:
    return [key for key in by if key in BURST_KEYS or key.startswith("burst.")]


def speedup(runs: pd.DataFrame, by: list[str], fixed: dict) -> Figure:
    """Median map makespan over median burst makespan at equal settings, against workers.

    One line per burst variant (granularity, backend, ...); above 1 burst wins.
    """
    if "mode" not in runs or not {"map", "burst"} <= set(runs["mode"]):
        raise NoData("needs both map and burst runs")
    rows = runs.assign(_y=_numeric(runs, "makespan_ms")).dropna(subset=["_y"])
    burst_keys = _burst_keys(by)
    shared = [key for key in dict.fromkeys(["app", "workers", *by])
              if key in rows and key != "mode" and key not in burst_keys]
    maps = rows[rows["mode"] == "map"].groupby(shared, dropna=False)["_y"].median()
    bursts = rows[rows["mode"] == "burst"]
    medians = bursts.groupby([*shared, *burst_keys], dropna=False)["_y"].median().reset_index()
    medians["_map"] = [maps.get(tuple(row) if len(shared) > 1 else row[0], np.nan)
                       for row in medians[shared].itertuples(index=False)]
    medians = medians.dropna(subset=["_map"])
    if medians.empty:
        raise NoData("no burst run has a map run with the same settings")
    medians["_speedup"] = medians["_map"] / medians["_y"]
    medians["_series"] = grouping.labels(medians, [*burst_keys,
                                                   *(k for k in shared if k not in
                                                     ("app", "workers"))])
    panels = _app_axes(medians, 6.5, 4.5)
    for app, axes in panels:
        mine = _of_app(medians, app)
        for name in grouping.sort_runs(mine, burst_keys)["_series"].unique():
            line = mine[mine["_series"] == name].sort_values("workers")
            axes.plot(line["workers"], line["_speedup"], marker="o", label=f"burst {name}")
        axes.axhline(1.0, color="0.4", linestyle="--", linewidth=0.8)
        axes.set_xticks(sorted(mine["workers"].unique()))
        axes.set_ylim(bottom=0)
        _label_axes(axes, app if len(panels) > 1 else None, "workers",
                    "speedup (median map makespan / median burst makespan)")
        axes.legend(fontsize=8)
    return _finish(panels[0][1].figure, "burst over map speedup against workers", fixed,
                   "above 1: burst is faster")


def _variant_rows(workers: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    rows = workers.assign(_v=_numeric(workers, column)).dropna(subset=["_v"])
    if rows.empty:
        raise NoData(f"no workers with {column}")
    return grouping.sort_runs(rows.assign(_variant=grouping.labels(rows, by)), by)


def start_latency_boxes(workers: pd.DataFrame, by: list[str], fixed: dict) -> Figure:
    """The distribution of worker start latency, one box per variant in key order."""
    variant_keys = [key for key in by if key != "app"]
    rows = _variant_rows(workers, variant_keys, "start_latency_ms")
    width = max(6.5, min(0.45 * rows["_variant"].nunique() + 2, 30))
    panels = _app_axes(rows, width, 4.8)
    for app, axes in panels:
        mine = _of_app(rows, app)
        names = list(mine["_variant"].unique())
        data = [mine.loc[mine["_variant"] == name, "_v"].to_numpy() for name in names]
        axes.boxplot(data, showfliers=True, flierprops={"markersize": 2})
        counts = [len(values) for values in data]
        axes.set_xticks(range(1, len(names) + 1),
                        [f"{name} (n={count})" for name, count in zip(names, counts,
                                                                        strict=True)],
                        rotation=60 if len(names) > 8 else 0, ha="right" if len(
                            names) > 8 else "center", fontsize=7)
        axes.set_ylim(bottom=0)
        _label_axes(axes, app if len(panels) > 1 else None, " ".join(variant_keys),
                    "worker start latency (ms after first submit)")
    return _finish(panels[0][1].figure, "worker start latency per variant", fixed,
                   "n = worker starts (each worker at each stage) over all runs of the variant")


def start_latency_cdf(workers: pd.DataFrame, by: list[str], fixed: dict) -> Figure:
    """The share of workers started within t ms, one step line per variant."""
    variant_keys = [key for key in by if key != "app"]
    rows = _variant_rows(workers, variant_keys, "start_latency_ms")
    count = rows.groupby("app")["_variant"].nunique().max() if "app" in rows else rows[
        "_variant"].nunique()
    panels = _app_axes(rows, 7 + _legend_width(count), 4.5)
    for app, axes in panels:
        mine = _of_app(rows, app)
        names = mine["_variant"].unique()
        for name, colour in zip(names, _colours(len(names)), strict=True):
            values = np.sort(mine.loc[mine["_variant"] == name, "_v"].to_numpy())
            shares = np.arange(1, len(values) + 1) / len(values)
            axes.step(values, shares, where="post", color=colour,
                      label=f"{name} (n={len(values)})")
        axes.set_ylim(0, 1.02)
        axes.set_xlim(left=0)
        _label_axes(axes, app if len(panels) > 1 else None,
                    "worker start latency (ms after first submit)", "share of workers started")
        _legend(axes, len(names))
    return _finish(panels[0][1].figure, "worker start latency, cumulative", fixed)


def _running_at_once(run: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Step function of how many workers run, seconds since the run's first submit."""
    origin = run["_origin"].iloc[0]
    starts = (run["start_ms"].dropna() - origin) / 1000
    ends = (run["end_ms"].dropna() - origin) / 1000
    events = pd.concat([pd.Series(1, index=starts.to_numpy()),
                        pd.Series(-1, index=ends.to_numpy())]).sort_index(kind="stable")
    times = np.concatenate([[0.0], events.index.to_numpy()])
    return times, np.concatenate([[0], events.cumsum().to_numpy()])


def concurrency(workers: pd.DataFrame, runs: pd.DataFrame, by: list[str],
                fixed: dict) -> Figure:
    """Workers running at once over time, one line per variant (its median-makespan run)."""
    rows = workers.dropna(subset=["start_ms", "end_ms"])
    if rows.empty:
        raise NoData("no workers with start and end times")
    variant_keys = [key for key in by if key != "app"]
    chosen = []
    runs = runs.assign(_makespan=_numeric(runs, "makespan_ms"),
                       _variant=grouping.labels(runs, variant_keys))
    for _, group in runs[runs["run_id"].isin(rows["run_id"])].groupby("_variant", sort=False):
        distance = (group["_makespan"] - group["_makespan"].median()).abs()
        chosen.append(group.loc[distance.fillna(0).idxmin()])
    if not chosen:
        raise NoData("no run of any variant has worker times")
    representatives = grouping.sort_runs(pd.DataFrame(chosen), variant_keys)
    first_start = rows.groupby("run_id")["start_ms"].min()
    first_submit = (rows["start_ms"] - rows["start_latency_ms"]).groupby(rows["run_id"]).min()
    rows = rows.assign(_origin=rows["run_id"].map(first_submit.fillna(first_start)))
    count = (representatives.groupby("app").size().max() if "app" in representatives
             else len(representatives))
    panels = _app_axes(representatives, 7 + _legend_width(count), 4.5)
    for app, axes in panels:
        mine = _of_app(representatives, app).to_dict("records")
        for run, colour in zip(mine, _colours(len(mine)), strict=True):
            times, running = _running_at_once(rows[rows["run_id"] == run["run_id"]])
            axes.step(times, running, where="post", color=colour,
                      label=f"{run['_variant']} (run {run['run_id']})")
        axes.set_ylim(bottom=0)
        axes.set_xlim(left=0)
        _label_axes(axes, app if len(panels) > 1 else None, "seconds since first submit",
                    "workers running at once")
        _legend(axes, len(mine))
    return _finish(panels[0][1].figure, "workers running at once", fixed,
                   "each variant's run closest to its median makespan")


def breakdown(workers: pd.DataFrame, by: list[str], fixed: dict) -> Figure:
    """Stacked bars, one per variant in key order, of its workers' mean time per part."""
    parts = [part for part in BREAKDOWN_PARTS if part in workers
             and _numeric(workers, part).notna().any()]
    reported = [part for part in parts if part != "start_latency_ms"]
    if not reported:
        raise NoData(f"no workers.csv with any of {', '.join(BREAKDOWN_PARTS[1:])}")
    rows = grouping.sort_runs(workers.assign(_variant=grouping.labels(workers, by)), by)
    means = rows.groupby("_variant", sort=False)[parts].agg(
        lambda column: pd.to_numeric(column, errors="coerce").mean())
    counts = rows.groupby("_variant", sort=False)["run_id"].nunique()
    figure = new_figure(9, 1.8 + 0.28 * len(means))
    axes = figure.subplots()
    names = [f"{name} (n={counts[name]})" for name in means.index]
    left = np.zeros(len(means))
    for part in parts:
        values = means[part].fillna(0.0).to_numpy()
        axes.barh(names, values, left=left, label=BREAKDOWN_NAMES[part],
                  height=0.7)
        left = left + values
    axes.margins(y=0.01)
    axes.invert_yaxis()
    axes.tick_params(axis="y", labelsize=8 if len(means) < 30 else 6)
    axes.set_xlabel("mean ms per worker")
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(parts), frameon=False,
                fontsize=8)
    return _finish(figure, "where workers spend their time", fixed,
                   "n = runs of the variant")


def startup_spread(runs: pd.DataFrame, by: list[str], fixed: dict) -> Figure:
    """How far apart burst workers start against workers per pack, one line per variant.

    A granularity of null means one pack for all workers, so it is drawn at N.
    """
    if "mode" not in runs:
        raise NoData("no mode column")
    burst = runs[runs["mode"] == "burst"]
    if burst.empty:
        raise NoData("no burst runs")
    workers = _numeric(burst, "workers")
    given = _numeric(burst, "granularity") if "granularity" in burst else workers * np.nan
    burst = burst.assign(granularity=given.fillna(workers).clip(upper=workers))
    series = [key for key in by if key not in ("granularity", "mode", "app")]
    return metric_against(burst, "granularity", "startup_spread_ms", series, fixed)
