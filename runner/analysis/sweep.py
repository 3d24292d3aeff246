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
from typing import TYPE_CHECKING, Any

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from runner.analysis import timelines
from runner.rundir import files

if TYPE_CHECKING:
    import pandas as pd


# libyaml's loader where PyYAML was built with it: ten times faster over a sweep's .hydra files
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_LOADER) if path.is_file() else None


def overrides(run_dir: Path) -> list[str]:
    """The command-line overrides of one run, as Hydra saved them."""
    return [str(item) for item in _yaml(run_dir / files.HYDRA / "overrides.yaml") or []]


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
    hydra = _yaml(run_dir / files.HYDRA / "hydra.yaml") or {}
    choices = hydra.get("hydra", {}).get("runtime", {}).get("choices", {})
    config = _yaml(run_dir / files.HYDRA / "config.yaml")
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
    hydra = _yaml(run_dir / files.HYDRA / "hydra.yaml") or {}
    number = hydra.get("hydra", {}).get("job", {}).get("num")
    return number if isinstance(number, int) else None


def _outcome(run_dir: Path) -> dict[str, Any]:
    """The run's summary row; a job stopped before writing one still says why."""
    row = files.read_summary(run_dir)
    if row is not None:
        return row
    message = files.stopped_before_running(run_dir)
    if message is not None:
        status = "skipped" if message.startswith("skipped:") else "error"
        return {"status": status, "message": message}
    return {"status": "incomplete", "message": f"no {files.SUMMARY}"}


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
    import pandas as pd  # only once a sweep is tabulated: the runner imports this module

    jobs = [run for run in files.find_runs(sweep_dir) if run != sweep_dir]
    keys = config_keys(jobs)
    rows = sorted((run_row(job, keys) for job in jobs),
                  key=lambda row: (row["job"] is None, row["job"] or 0, row["run"]))
    return pd.DataFrame(rows)


def write_sweep_summary(sweep_dir: Path) -> Path:
    path = sweep_dir / files.SWEEP_SUMMARY
    sweep_table(sweep_dir).to_csv(path, index=False)
    return path


class SweepSummary(Callback):
    """Hydra callback (conf/config.yaml, hydra.callbacks): sweep_summary.csv and the timelines."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        timelines.draw_later([sweep_dir])
        try:
            path = write_sweep_summary(sweep_dir)
        except Exception as error:  # the jobs' own results matter more than their summary
            warnings.warn(f"{files.SWEEP_SUMMARY} not written: {error}", stacklevel=2)
            return
        print(f"sweep summary: {path}", flush=True)
