"""sweep_summary.csv: one row per job of a sweep, written when Hydra's multirun ends."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from omegaconf import OmegaConf

from runner.analysis.sweep import SweepSummary, write_sweep_summary
from tests.helpers.compare import PROJECT, Run, read_summaries, write_config_error, write_sweep


def test_one_row_per_job_with_its_choices_and_summary(tmp_path):
    jobs = [Run(mode, 3, seed) for seed, mode in enumerate(["map", "burst"])]
    sweep = write_sweep(tmp_path / "sweep", jobs)
    write_config_error(sweep / "2_mode=map,workers=0", Run("map", 0, seed=9, job=2),
                       "workers=0: must be an integer >= 1")
    table = pd.read_csv(write_sweep_summary(sweep))
    assert table["job"].tolist() == [0, 1, 2]
    assert table["overrides"].tolist() == [" ".join(job.overrides) for job in jobs] + [
        "mode=map workers=0 app=sleep app.sleep_ms=50"]
    assert table["workers"].tolist() == [3, 3, 0]
    assert table["app.sleep_ms"].tolist() == [50, 50, 50]
    assert table["status"].tolist() == ["ok", "ok", "error"]
    assert table["message"].iloc[2] == "config error: workers=0: must be an integer >= 1"
    summaries = read_summaries(sweep).set_index("mode")
    for row in table.iloc[:2].to_dict("records"):
        assert row["makespan_ms"] == summaries.loc[row["mode"], "makespan_ms"]
        assert row["total_ms"] == summaries.loc[row["mode"], "total_ms"]


def test_a_refused_job_says_the_first_line_of_its_error(tmp_path):
    sweep = write_sweep(tmp_path / "sweep", [Run("map", 2, seed=1)])
    refused = write_config_error(sweep / "1_workers=0", Run("map", 0, seed=2, job=1),
                                 "workers=0: must be an integer >= 1")
    with (refused / "error.txt").open("a") as error:
        error.write("Traceback (most recent call last):\n  ...\n")  # what debug=true adds
    table = pd.read_csv(write_sweep_summary(sweep))
    assert table[["status", "message"]].values.tolist()[1] == [
        "error", "config error: workers=0: must be an integer >= 1"]


def test_hydra_multirun_writes_it_even_when_every_job_fails(tmp_path):
    sweep = tmp_path / "sweep"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "workers=0,-1", "app=sleep",
         f"hydra.sweep.dir={sweep}", f"build.cache_dir={tmp_path}/cache",
         f"data_dir={tmp_path}/data"],
        cwd=PROJECT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode != 0
    assert f"sweep summary: {sweep / 'sweep_summary.csv'}" in done.stdout
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert table["job"].tolist() == [0, 1]
    assert table["workers"].tolist() == [0, -1]
    assert table["status"].tolist() == ["error", "error"]
    assert table["message"].tolist() == [f"config error: workers={n}: must be an integer >= 1"
                                         for n in (0, -1)]


def test_a_summary_that_cannot_be_written_is_only_a_warning(tmp_path):
    config = OmegaConf.create({"hydra": {"sweep": {"dir": str(tmp_path / "gone")}}})
    with pytest.warns(UserWarning, match="sweep_summary.csv not written"):
        SweepSummary().on_multirun_end(config)
