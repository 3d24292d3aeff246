"""The run directory's layout: every file's name, and the readers of what a run left.

Experiment, resume, compare, plots and the sweep summary all read and write
run directories through these names and readers, so the layout is defined
once (docs/design.md, "Output schema").
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

ACTIVATIONS = "activations.csv"  # one row per activation (a map worker or a burst pack)
WORKERS = "workers.csv"  # one row per worker and stage, widened with the app's columns
RESULTS = "results.jsonl"  # every worker's full result
SUMMARY = "summary.csv"  # one row: the run's outcome (runner/rundir/summary.py)
PROVENANCE = "provenance.json"
TIMELINE = "timeline.png"
BUILD_LOG = "build.log"
PLATFORM_LOG = "platform.log"  # the embedded platform's own log
LOGS = "logs"  # logs/<activation id>.log of every failed activation
ERROR = "error.txt"  # a sweep job stopped before it ran: why
HYDRA = ".hydra"  # Hydra's saved config, overrides and its own settings
# what a secret given on the command line becomes in the saved .hydra files (valid YAML)
REDACTED = "REDACTED"
SWEEP_SUMMARY = "sweep_summary.csv"  # at a sweep's root: one row per job


def read_rows(run_dir: Path, name: str) -> list[dict[str, str]]:
    """A CSV of the run as text rows (no rows when it was never written).

    What a run reads of its own files while it ends, so that a run never
    imports pandas: its import alone costs more than a short run.
    """
    path = run_dir / name
    if not path.is_file():
        return []
    with path.open(newline="") as lines:
        return list(csv.DictReader(lines))


class WriteError(RuntimeError):
    """A file of the run directory could not be written (a full disk, say); the message names it."""


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turns a failed write into a WriteError naming the file, for the user's one line."""
    try:
        yield
    except OSError as error:
        raise WriteError(f"cannot write {path}: {error.strerror or error}") from error


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A file to write in place of `path`, renamed over it once written: whole or not at all,
    so a disk that fills up (or a crash) leaves the old file as it was."""
    partial = path.with_name(f".{path.name}.partial")
    with writing(path):
        try:
            yield partial
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)


def read_table(run_dir: Path, name: str) -> pd.DataFrame:
    """A CSV of the run, or no rows when the run never wrote it (files appear on the first row)."""
    import pandas as pd

    path = run_dir / name
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_csv(path)


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """The run's summary row, or None when it has none (yet)."""
    frame = read_table(run_dir, SUMMARY)
    return frame.iloc[0].to_dict() if len(frame) else None


def results_by_worker(run_dir: Path, workers: int) -> list[Any]:
    """The last result each worker reported, indexed by worker id (None: no result)."""
    by_worker: list[Any] = [None] * workers
    path = run_dir / RESULTS
    if not path.is_file():
        return by_worker
    with path.open() as lines:
        for line in lines:
            item = json.loads(line)
            if 0 <= item["worker_id"] < workers:
                by_worker[item["worker_id"]] = item["result"]
    return by_worker


def stopped_before_running(run_dir: Path) -> str | None:
    """The first line of `error.txt`: why a sweep job never ran, or None."""
    path = run_dir / ERROR
    if not path.is_file():
        return None
    lines = path.read_text().strip().splitlines()
    return lines[0] if lines else ""


def is_run(path: Path) -> bool:
    """A run directory holds Hydra's `.hydra/` or the runner's `summary.csv`."""
    return (path / HYDRA).is_dir() or (path / SUMMARY).is_file()


def is_sweep_root(path: Path) -> bool:
    return (path / "multirun.yaml").is_file()


def find_runs(root: Path) -> list[Path]:
    """Every run directory at or below root.

    Searched at any depth because an override value holding a `/` (a path)
    nests the job directory Hydra names after it; hidden directories (a job's
    earlier `.attempts/`) hold no runs of their own.
    """
    found = {root, *(p.parent for p in root.rglob(SUMMARY)),
             *(p.parent for p in root.rglob(HYDRA))}
    return sorted(p for p in found if is_run(p) and not any(
        part.startswith(".") for part in p.relative_to(root).parts))
