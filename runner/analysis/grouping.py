"""Which runs are repeats of one variant, and the medians over them.

A variant is one combination of the settings that differ between the runs
compared (`mode`, `workers`, `granularity`, `app.sleep_ms`, ...). Repeats
(`repeat_index`), settings that only move files, and `burst.*` settings of map
runs never make a variant of their own. Only runs whose status is `ok` enter
the medians unless asked otherwise, and each group says how many were left out
and why: a timing of a failed run is not a timing of the experiment.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from runner.analysis.runs import run_keys

# Overrides that move files around or repeat a run without changing what is measured.
NOT_COMPARED = {"build.cache_dir", "data_dir", "debug", "storage.path", "repeat_index",
                "wait.timeout_s"}
STATS = ["median", "min", "max"]
# How variant labels write the usual keys: `burst g=4 w=8`.
SHORT = {"workers": "w", "granularity": "g"}


def _candidates(runs: pd.DataFrame) -> list[str]:
    return [key for key in run_keys(runs) if key not in NOT_COMPARED]


def _codes(values: pd.Series) -> tuple[int, ...]:
    return tuple(pd.factorize(values.astype(object), use_na_sentinel=False)[0].tolist())


def varied_keys(runs: pd.DataFrame) -> list[str]:
    """Setting columns whose value differs between runs: the variants' keys.

    A key that splits the runs exactly like an earlier one (burst.granularity
    next to the summary's granularity, backend next to mode) adds nothing and is
    left out.
    """
    varied: list[str] = []
    partitions: set[tuple[int, ...]] = set()
    for key in _candidates(runs):
        codes = _codes(runs[key])
        if len(set(codes)) > 1 and codes not in partitions:
            varied.append(key)
            partitions.add(codes)
    return varied


def fixed_settings(runs: pd.DataFrame) -> dict[str, Any]:
    """Setting columns with one value over all runs (and that value), for titles and tables."""
    fixed = {}
    for key in _candidates(runs):
        values = runs[key].dropna().unique()
        if len(values) == 1 and runs[key].notna().all():
            fixed[key] = values[0]
    return fixed


def describe(settings: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in settings.items())


def _sort_key(column: pd.Series) -> pd.Series:
    return column if pd.api.types.is_numeric_dtype(column) else column.astype(str)


def sort_runs(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Runs in the order of their keys, numbers as numbers: workers 4 before 16."""
    return runs.sort_values(by, key=_sort_key, na_position="first", kind="stable")


def _part(key: str, value: Any, keys: list[str]) -> str:
    if key == "mode":
        return str(value)
    short = SHORT.get(key) or key.rsplit(".", 1)[-1]
    clash = sum(1 for other in keys if (SHORT.get(other) or other.rsplit(".", 1)[-1]) == short)
    return f"{key if clash > 1 else short}={value}"


def labels(runs: pd.DataFrame, by: list[str]) -> pd.Series:
    """Each run's variant as a short label for legends: `burst g=4 w=8`; unset keys omitted."""
    if not by:
        return pd.Series("all runs", index=runs.index)
    return runs[by].apply(lambda row: " ".join(
        _part(key, value, by) for key, value in row.items() if pd.notna(value)) or "-",
        axis=1)


def counted(runs: pd.DataFrame, include_failed: bool) -> pd.Series:
    """Which runs enter the medians: those whose status is ok, or all of them."""
    if include_failed or "status" not in runs:
        return pd.Series(True, index=runs.index)
    return runs["status"].eq("ok")


def _statuses(values: pd.Series) -> str:
    counts = values.fillna("unknown").value_counts()
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def aggregate(runs: pd.DataFrame, by: list[str], metrics: list[str],
              include_failed: bool = False) -> pd.DataFrame:
    """Per variant: runs counted, runs left out, their statuses, median/min/max of each metric.

    Every variant gets a row, also one whose runs all failed (its medians empty),
    so a failure never silently drops a point from the comparison.
    """
    keep = counted(runs, include_failed)
    values = runs[by].copy()
    for metric in metrics:  # valid is True/False: its median says whether most runs were
        numbers = pd.to_numeric(runs[metric], errors="coerce").astype("float64")
        values[metric] = numbers.where(keep)
    values["_counted"] = keep
    values["_status"] = runs["status"] if "status" in runs else "unknown"
    values["_left_out"] = values["_status"].where(~keep)
    values["variant"] = labels(runs, by)
    groups = values.groupby(by, dropna=False, sort=False) if by else values.groupby(
        lambda _: 0)
    stats = groups.agg(**{f"{m}_{s}": (m, s) for m in metrics for s in STATS})
    stats.insert(0, "runs", groups["_counted"].sum().astype(int))
    stats.insert(1, "left_out", groups.size() - stats["runs"])
    stats.insert(2, "statuses", groups["_status"].agg(_statuses))
    stats.insert(3, "left_out_statuses",
                 groups["_left_out"].agg(lambda column: _statuses(column.dropna())))
    stats["variant"] = groups["variant"].first()
    table = stats.reset_index(drop=not by)
    return sort_runs(table, by).reset_index(drop=True) if by else table
