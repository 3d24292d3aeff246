"""Helpers shared by the end-to-end tests: run the real CLI as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir / name)

    @property
    def summary(self) -> dict:
        return self.csv("summary.csv").iloc[0].to_dict()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def run_cli(tmp_path: Path, cache_dir: Path, data_dir: Path):
    """Runs `python -m runner` with the given overrides in a fresh run directory."""
    counter = iter(range(1000))

    def run(*overrides: str, timeout: float = 120, build_cache: Path | None = None) -> CliRun:
        run_dir = tmp_path / f"run{next(counter)}"
        completed = subprocess.run(
            [sys.executable, "-m", "runner", *overrides, f"hydra.run.dir={run_dir}",
             f"build.cache_dir={build_cache or cache_dir}", f"data_dir={data_dir}"],
            cwd=PROJECT, capture_output=True, text=True, timeout=timeout,
        )
        return CliRun(completed.returncode, completed.stdout, completed.stderr, run_dir)

    return run
