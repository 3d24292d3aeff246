"""What a set of run directories holds, and the sweep's own summary table.

A sweep scatters its results over one directory per job; `sweep_summary.csv` at
the sweep root puts them side by side: the values each job chose on the command
line next to its summary row. Hydra calls `SweepSummary` when a multirun ends,
and `python -m runner.compare` reads run directories through the same functions,
so both tables agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

SWEEP_SUMMARY = "sweep_summary.csv"


def is_run(path: Path) -> bool:
    """A run directory holds Hydra's `.hydra/` or the runner's `summary.csv`."""
    return (path / ".hydra").is_dir() or (path / "summary.csv").is_file()


def is_sweep_root(path: Path) -> bool:
    return (path / "multirun.yaml").is_file()


def find_runs(root: Path) -> list[Path]:
    """Every run directory at or below root.

    Searched at any depth because an override value holding a `/` (a path)
    nests the job directory Hydra names after it.
    """
    found = {root, *(p.parent for p in root.rglob("summary.csv")),
             *(p.parent for p in root.rglob(".hydra"))}
    return sorted(p for p in found if is_run(p))


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text()) if path.is_file() else None


def overrides(run_dir: Path) -> list[str]:
    """The command-line overrides of one run, as Hydra saved them."""
    return [str(item) for item in _yaml(run_dir / ".hydra" / "overrides.yaml") or []]


def chosen_values(run_dir: Path) -> dict[str, Any]:
    """Override key -> value, typed the way Hydra parsed it (`workers=2` gives the int 2)."""
    values: dict[str, Any] = {}
    for override in OverridesParser.create().parse_overrides(overrides(run_dir)):
        if override.is_delete():
            continue
        value = override.value()
        scalar = value is None or isinstance(value, (str, int, float, bool))
        values[override.key_or_group] = value if scalar else override.get_value_element_as_str()
    return values


def _saved_values(run_dir: Path, keys: Iterable[str]) -> dict[str, Any]:
    """Keys' values in the run's saved config, for runs that did not override them."""
    hydra = _yaml(run_dir / ".hydra" / "hydra.yaml") or {}
    choices = hydra.get("hydra", {}).get("runtime", {}).get("choices", {})
    config = _yaml(run_dir / ".hydra" / "config.yaml")
    values: dict[str, Any] = {}
    for key in keys:
        if key in choices:
            values[key] = choices[key]
            continue
        node = config
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        values[key] = str(node) if isinstance(node, (dict, list)) else node
    return values


def _job_number(run_dir: Path) -> int | None:
    hydra = _yaml(run_dir / ".hydra" / "hydra.yaml") or {}
    number = hydra.get("hydra", {}).get("job", {}).get("num")
    return number if isinstance(number, int) else None


def _outcome(run_dir: Path) -> dict[str, Any]:
    """The run's summary row; a job stopped before writing one still says why."""
    summary = run_dir / "summary.csv"
    if summary.is_file() and summary.stat().st_size:
        frame = pd.read_csv(summary)
        if len(frame):
            return frame.iloc[0].to_dict()
    error = run_dir / "error.txt"
    if error.is_file():
        lines = error.read_text().strip().splitlines()
        message = lines[0] if lines else ""
        status = "skipped" if message.startswith("skipped:") else "error"
        return {"status": status, "message": message}
    return {"status": "incomplete", "message": "no summary.csv"}


def config_keys(runs: Iterable[Path]) -> list[str]:
    """Every key overridden in any of the runs, in first-seen order."""
    return list(dict.fromkeys(key for run in runs for key in chosen_values(run)))


def run_row(run_dir: Path, keys: Iterable[str] = ()) -> dict[str, Any]:
    """One run as a row: job number, overrides, chosen values, then its summary columns.

    `keys` overridden elsewhere but not here get this run's saved value, so runs
    from different command lines compare on equal terms. Summary columns win
    over same-named overrides: they record what actually ran.
    """
    chosen = chosen_values(run_dir)
    row: dict[str, Any] = {"job": _job_number(run_dir), "overrides": " ".join(overrides(run_dir))}
    row.update(_saved_values(run_dir, [key for key in keys if key not in chosen]))
    row.update(chosen)
    row.update(_outcome(run_dir))
    row["run"] = str(run_dir)
    return row


def sweep_table(sweep_dir: Path) -> pd.DataFrame:
    """One row per job directory of the sweep, in job order."""
    jobs = [run for run in find_runs(sweep_dir) if run != sweep_dir]
    keys = config_keys(jobs)
    rows = sorted((run_row(job, keys) for job in jobs),
                  key=lambda row: (row["job"] is None, row["job"] or 0, row["run"]))
    return pd.DataFrame(rows)


def write_sweep_summary(sweep_dir: Path) -> Path:
    path = sweep_dir / SWEEP_SUMMARY
    sweep_table(sweep_dir).to_csv(path, index=False)
    return path


class SweepSummary(Callback):
    """Hydra callback (conf/config.yaml, hydra.callbacks) writing sweep_summary.csv."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            path = write_sweep_summary(Path(config.hydra.sweep.dir))
        except Exception as error:  # the jobs' own results matter more than their summary
            warnings.warn(f"{SWEEP_SUMMARY} not written: {error}", stacklevel=2)
            return
        print(f"sweep summary: {path}", flush=True)
