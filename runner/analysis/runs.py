"""Runs as pandas tables: the one way compare, its figures and notebooks read run directories.

`load_runs` gives one row per run (the values it chose, then its summary);
`load_workers` and `load_activations` give the rows of those runs' CSVs with
the run's keys as columns, so a notebook can group workers by `mode` or
`granularity` as directly as runs. Everything here reads files only: it works on
runs copied from a cluster as on local ones.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from runner.analysis import sweep
from runner.rundir import files

# What every run is, whatever its command line (the summary's identity columns).
IDENTITY = ["app", "mode", "platform", "workers", "granularity", "backend"]
# Jobs the sweep never meant to run (granularity > workers): not runs of any group.
NOT_RUN = {"skipped"}


class CompareError(Exception):
    """Something the user can fix; reported in one line, exit code 2."""


def expand(patterns: Iterable[str | Path]) -> list[Path]:
    """Given directories, with globs expanded here too (for quoted or Windows-style args)."""
    paths: list[Path] = []
    for pattern in map(str, patterns):
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


def _burst_keys_of_burst_runs_only(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A map run ignores `burst.*`: its value there is no property of the run, so it is blanked."""
    if "mode" not in table:
        return table
    is_map = table["mode"].eq("map")
    for key in keys:
        if key.startswith("burst.") and key in table:
            table[key] = table[key].where(~is_map)
    return table


def _in_job_order(row: dict) -> tuple:
    """A sweep's jobs by number (job 2 before job 10), single runs by directory."""
    job = row.get("job")
    return (str(Path(row["run"]).parent), job if isinstance(job, int) else -1, row["run"])


def load_runs(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per run found under `paths` (run or sweep directories, globs).

    Columns: `run_id` (a short name for figures and files, its row number),
    the config keys any of the runs overrode, the summary's columns (status,
    makespan_ms, ...), and `run`, the run's directory. `table.attrs["keys"]`
    lists the columns that describe a run's setting rather than its outcome.
    Jobs a sweep skipped as impossible (granularity > workers) are not runs.
    """
    runs = find_runs(expand(paths))
    keys = sweep.config_keys(runs)
    rows = [row for row in (sweep.run_row(run, keys) for run in runs)
            if row.get("status") not in NOT_RUN]
    rows.sort(key=_in_job_order)
    if not rows:
        raise CompareError("every job under the given directories was skipped; nothing ran")
    table = pd.DataFrame(rows)
    setting = [key for key in dict.fromkeys([*IDENTITY, *keys, "repeat_index"]) if key in table]
    table = _integers(table, setting)
    table = _burst_keys_of_burst_runs_only(table, setting)
    table.insert(0, "run_id", [f"{number:03d}" for number in range(len(table))])
    table.attrs["keys"] = setting
    return table


def run_keys(runs: pd.DataFrame) -> list[str]:
    """The columns of a `load_runs` table that describe settings (its attrs, else identity)."""
    return [key for key in runs.attrs.get("keys", IDENTITY) if key in runs]


def _with_keys(runs: pd.DataFrame, name: str, keys: list[str] | None) -> pd.DataFrame:
    """Concatenates one CSV of every run, each row prefixed with its run's id and keys."""
    columns = ["run_id", *(run_keys(runs) if keys is None else keys)]
    frames = []
    for run in runs.to_dict("records"):
        rows = files.read_table(Path(run["run"]), name)
        if rows.empty:
            continue
        if name == files.WORKERS:
            rows = with_start_latency(rows, files.read_table(Path(run["run"]),
                                                             files.ACTIVATIONS))
        frames.append(rows.assign(**{column: run.get(column) for column in columns}))
    if not frames:
        return pd.DataFrame(columns=columns)
    joined = pd.concat(frames, ignore_index=True)
    return joined[[*columns, *(c for c in joined.columns if c not in columns)]]


def load_workers(runs: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """Every run's workers.csv rows with `run_id` and the run's keys in front.

    Adds `start_latency_ms`: the worker's start minus the first submit of its
    stage, i.e. how long the platform took to get it running.
    """
    return _with_keys(runs, files.WORKERS, keys)


def load_activations(runs: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """Every run's activations.csv rows with `run_id` and the run's keys in front."""
    return _with_keys(runs, files.ACTIVATIONS, keys)


def with_start_latency(workers: pd.DataFrame, activations: pd.DataFrame) -> pd.DataFrame:
    """workers plus `start_latency_ms` (NaN where the stage's submit time is unknown)."""
    if activations.empty or "submit_ms" not in activations:
        return workers.assign(start_latency_ms=float("nan"))
    first_submit = activations.groupby(activations["stage"].astype(str))["submit_ms"].min()
    submitted = workers["stage"].astype(str).map(first_submit)
    return workers.assign(start_latency_ms=workers["start_ms"] - submitted)
