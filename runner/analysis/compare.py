"""Comparison of runs: one table of every run, grouped medians over repeats, and figures.

Joins the runs found under the given run and sweep directories into one table,
groups them by the keys that differ between runs (or `--by`), and reports the
median and the min/max of each metric over the repeats of a group: printed,
in `comparison.csv`, and as figures (the command line is runner/compare.py).
Repeats are what make a comparison of noisy timings honest, so every number is
a median over them.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from runner.analysis import plots, sweep
from runner.rundir import files

IDENTITY = ["app", "mode", "platform", "workers", "granularity", "backend"]
DEFAULT_METRICS = ["makespan_ms", "startup_spread_ms", "total_ms", "failed", "valid"]
# Overrides that move files around without changing what is measured.
NOT_COMPARED = {"build.cache_dir", "data_dir", "debug", "storage.path"}
STATS = ["median", "min", "max"]


class CompareError(Exception):
    """Something the user can fix; reported in one line, exit code 2."""


def expand(patterns: list[str]) -> list[Path]:
    """Given directories, with globs expanded here too (for quoted or Windows-style args)."""
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not Path(matches[0]).exists():
            raise CompareError(f"no such file or directory: {pattern}")
        paths.extend(Path(match) for match in matches)
    return paths


def find_runs(paths: list[Path]) -> list[Path]:
    runs = {run.resolve(): run for path in paths for run in files.find_runs(path)}
    if not runs:
        raise CompareError(f"no run directories under {' '.join(map(str, paths))}")
    return [runs[key] for key in sorted(runs)]


def _integers(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Whole-number float columns (ints with gaps) shown as ints: granularity 4, not 4.0."""
    for column in columns:
        values = table[column]
        if values.dtype == "float64" and (values.dropna() % 1 == 0).all():
            table[column] = values.astype("Int64")
    return table


def run_table(runs: list[Path], keys: list[str]) -> pd.DataFrame:
    """One row per run: its config values for `keys` and its summary columns."""
    table = pd.DataFrame([sweep.run_row(run, keys) for run in runs])
    return _integers(table, [c for c in [*IDENTITY, *keys] if c in table])


def varied_keys(table: pd.DataFrame, keys: list[str]) -> list[str]:
    """Config columns whose value differs between runs.

    A key that splits the runs exactly like an earlier one (burst.granularity
    next to the summary's granularity) adds nothing and is left out.
    """
    candidates = [k for k in dict.fromkeys([*IDENTITY, *keys])
                  if k in table and k not in NOT_COMPARED]
    varied: list[str] = []
    partitions: set[tuple[int, ...]] = set()
    for key in candidates:
        codes = tuple(pd.factorize(table[key], use_na_sentinel=False)[0].tolist())
        if len(set(codes)) > 1 and codes not in partitions:
            varied.append(key)
            partitions.add(codes)
    return varied


def _sort_key(column: pd.Series) -> pd.Series:
    return column if pd.api.types.is_numeric_dtype(column) else column.astype(str)


def aggregate(table: pd.DataFrame, by: list[str], metrics: list[str]) -> pd.DataFrame:
    """Per group of `by`: the number of runs and median/min/max of each metric."""
    values = table[by].copy()
    for metric in metrics:  # valid is True/False: its median says whether most runs were
        values[metric] = pd.to_numeric(table[metric], errors="coerce").astype("float64")
    groups = values.groupby(by, dropna=False, sort=False)
    stats = groups.agg(**{f"{m}_{s}": (m, s) for m in metrics for s in STATS})
    stats.insert(0, "runs", groups.size())
    return stats.reset_index().sort_values(by, key=_sort_key, ignore_index=True)


def _number(value: float) -> str:
    return "-" if pd.isna(value) else f"{value:.1f}"


def format_table(summary: pd.DataFrame, by: list[str], metrics: list[str]) -> str:
    """The comparison as text: `median [min, max]` per metric, the range only when it is one."""
    shown = summary[[*by, "runs"]].copy()
    for metric in metrics:
        shown[metric] = [
            _number(mid) if lo == hi or pd.isna(lo) else
            f"{_number(mid)} [{_number(lo)}, {_number(hi)}]"
            for mid, lo, hi in zip(*(summary[f"{metric}_{s}"] for s in STATS), strict=True)
        ]
    return shown.to_string(index=False)


def run_labels(table: pd.DataFrame, by: list[str]) -> list[str]:
    """Short, unique, file-name-safe names for the runs: `mode=map,workers=4`, then `_1`..."""
    names = table["run"].map(lambda run: Path(run).name)
    base = table[by].apply(lambda row: ",".join(
        f"{key}={value}" for key, value in row.items() if pd.notna(value)), axis=1)
    base = names if by == ["run"] else base.where(base != "", names)
    repeat = base.groupby(base).cumcount().astype(str)
    labels = base.where(~base.duplicated(keep=False), base + "_" + repeat)
    return [re.sub(r"[^\w.=,+-]", "_", label) for label in labels]


def breakdown_parts(table: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Per run: its workers' mean of each time part they report; runs reporting none are out."""
    rows = {}
    for run, label in zip(table["run"], labels, strict=True):
        workers = files.read_table(Path(run), files.WORKERS)
        parts = [part for part in plots.BREAKDOWN_PARTS if part in workers]
        if parts:
            rows[label] = workers[parts].mean()
    return pd.DataFrame.from_dict(rows, orient="index")


def write_figures(table: pd.DataFrame, labels: list[str], out: Path) -> list[str]:
    """Draws every figure the data allows; returns one note per figure written or skipped."""
    figures: list[tuple[str, Callable[[Path], Any]]] = [
        ("makespan_vs_workers.png", lambda path: plots.makespan_vs_workers(table, path)),
        ("startup_spread_vs_granularity.png",
         lambda path: plots.startup_spread_vs_granularity(table, path)),
        ("breakdown.png", lambda path: plots.breakdown(breakdown_parts(table, labels), path)),
    ]
    figures += [(f"timeline_{label}.png", lambda path, run=Path(run): plots.timeline(run, path))
                for run, label in zip(table["run"], labels, strict=True)]
    notes = []
    for name, draw in figures:
        try:
            draw(out / name)
            notes.append(f"wrote {out / name}")
        except plots.NoData as reason:
            notes.append(f"skipped {name}: {reason}")
    return notes


def choose(given: str | None, available: list[str], default: list[str], what: str) -> list[str]:
    if given is None:
        return default
    chosen = [name for name in given.split(",") if name]
    unknown = [name for name in chosen if name not in available]
    if unknown or not chosen:
        raise CompareError(f"unknown {what} {','.join(unknown) or repr(given)}; "
                           f"choose from {', '.join(available)}")
    return chosen
