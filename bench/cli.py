"""Runs the runner's CLI the way a user does and reads back the run directory.

End-to-end benchmarks go through `python -m runner` in a fresh process, so
their figures include what users wait for: Hydra, starting the embedded
platform, building and deploying, the run itself and validation.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .common import PROJECT, BenchError

RUN_TIMEOUT_S = 900


@dataclass(frozen=True)
class CliRun:
    summary: dict[str, Any]  # the row of summary.csv
    activations: pd.DataFrame
    workers: pd.DataFrame

    @property
    def to_last_start_ms(self) -> float:
        """First invocation sent (client clock) to the last worker started (platform clock)."""
        return float(self.workers["start_ms"].max() - self.activations["submit_ms"].min())


def run_cli(overrides: list[str], run_dir: Path) -> CliRun:
    """One `python -m runner` run into `run_dir`; a run that is not `ok` is an error."""
    command = [sys.executable, "-m", "runner", *overrides, f"hydra.run.dir={run_dir}"]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BenchError(f"`python -m runner {' '.join(overrides)}` exited with "
                         f"{done.returncode}: {last} (see {run_dir})")
    return CliRun(pd.read_csv(run_dir / "summary.csv").iloc[0].to_dict(),
                  pd.read_csv(run_dir / "activations.csv"), pd.read_csv(run_dir / "workers.csv"))
