"""Multirun: one run directory per combination, all under the sweep directory."""

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.helpers.compare import assert_picture
from tests.helpers.running import wait_for

PROJECT = Path(__file__).resolve().parent.parent




def test_sweep_makes_one_directory_per_combination(tmp_path, cache_dir, standalone_platform):
    sweep_dir = tmp_path / "sweep"
    secret = standalone_platform["AUTH"]
    completed = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "mode=map,burst", "workers=2,3", "app=sleep",
         "app.sleep_ms=50", f"hydra.sweep.dir={sweep_dir}", f"build.cache_dir={cache_dir}",
         "platform=openwhisk", f"platform.api_host={standalone_platform['APIHOST']}",
         f"platform.auth={secret}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    summaries = sorted(sweep_dir.glob("*/summary.csv"))
    assert len(summaries) == 4
    rows = pd.concat([pd.read_csv(path) for path in summaries])
    assert sorted(zip(rows["mode"], rows["workers"], strict=True)) == [
        ("burst", 2), ("burst", 3), ("map", 2), ("map", 3)]
    assert rows["valid"].all()
    assert not [p for p in sweep_dir.rglob("*") if secret in p.name]
    for saved in sweep_dir.rglob("*.yaml"):
        assert secret not in saved.read_text(), saved


def test_a_sweep_lays_out_its_jobs_by_date_time_and_overrides_and_draws_their_timelines(
        tmp_path, cache_dir, data_dir):
    completed = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "mode=map", "workers=1,2", "app=sleep",
         "app.sleep_ms=1", f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    # outputs/sweeps/<date>/<time>/<job>_<overrides>/, paths left out of the name
    [sweep_dir] = (tmp_path / "outputs" / "sweeps").glob("*/*")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", sweep_dir.parent.name), sweep_dir
    assert re.fullmatch(r"\d\d-\d\d-\d\d-\d{6}", sweep_dir.name), sweep_dir
    jobs = sorted(path for path in sweep_dir.iterdir() if path.is_dir())
    assert [job.name for job in jobs] == [
        f"{n}_app.sleep_ms=1,app=sleep,mode=map,workers={n + 1}" for n in range(2)]
    for job in jobs:
        assert (job / ".hydra" / "config.yaml").is_file()
        # drawn in the background once the sweep has ended
        wait_for(lambda job=job: (job / "timeline.png").is_file(), f"{job.name}/timeline.png",
                 timeout_s=60)
        assert_picture(job / "timeline.png")


def _sweep(tmp_path, cache_dir, *overrides):
    sweep_dir = tmp_path / "sweep"
    completed = subprocess.run(
        [sys.executable, "-m", "runner", *overrides, f"hydra.sweep.dir={sweep_dir}",
         f"build.cache_dir={cache_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    return completed, sweep_dir


def test_repeat_runs_each_point_r_times(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "repeat=3", "mode=map", "workers=2",
                                  "app=sleep", "app.sleep_ms=10")
    assert completed.returncode == 0, completed.stderr
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert sorted(rows["repeat_index"]) == [0, 1, 2]
    assert (rows["status"] == "ok").all() and (rows["workers"] == 2).all()


def test_impossible_combination_is_skipped_and_the_sweep_goes_on(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "-m", "mode=burst", "workers=2",
                                  "burst.granularity=1,4", "app=sleep", "app.sleep_ms=10")
    assert completed.returncode == 0, completed.stderr
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv").set_index("burst.granularity")
    assert rows.loc[1, "status"] == "ok"
    assert rows.loc[4, "status"] == "skipped"
    assert "burst.granularity=4 > workers=2" in rows.loc[4, "message"]


def test_bad_value_in_a_sweep_fails_that_job_only(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "-m", "mode=map", "workers=0,2",
                                  "app=sleep", "app.sleep_ms=10")
    assert completed.returncode == 1
    assert "1 job(s) of the sweep failed" in completed.stderr
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv").set_index("workers")
    assert rows.loc[2, "status"] == "ok" and rows.loc[0, "status"] == "error"


def test_ready_made_startup_sweep(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "-m", "+experiment=startup", "workers=4",
                                  "burst.granularity=1,4", "app.sleep_ms=10")
    assert completed.returncode == 0, completed.stderr
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert set(rows["app"]) == {"sleep"} and set(rows["mode"]) == {"burst"}
    assert sorted(rows["granularity"]) == [1, 4]


def test_optuna_picks_a_granularity(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "-m", "+experiment=tune_granularity",
                                  "app=sleep", "app.sleep_ms=10", "workers=4",
                                  "hydra.sweeper.n_trials=3", "burst.granularity=choice(1,2,4)")
    assert completed.returncode == 0, completed.stderr
    results = (sweep_dir / "optimization_results.yaml").read_text()
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert len(rows) == 3 and (rows["status"] == "ok").all()
    best = rows["makespan_ms"].min()
    assert f"best_value: {best}" in results


def test_a_bad_value_anywhere_in_a_sweep_stops_it_before_any_job_runs(tmp_path, cache_dir):
    completed, sweep_dir = _sweep(tmp_path, cache_dir, "-m", "mode=map", "workers=2,3",
                                  "app=sleep", "app.sleep_ms=10,20,fast")
    assert completed.returncode == 2
    assert completed.stderr.startswith("config error: app.sleep_ms: Value 'fast' of type 'str'")
    assert len(completed.stderr.splitlines()) == 1
    assert not [path for path in sweep_dir.iterdir() if path.is_dir()]  # no job ran
