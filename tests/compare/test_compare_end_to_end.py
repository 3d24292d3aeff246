"""A real sweep on the embedded platform, then compared: the table agrees with the runs' CSVs."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import yaml

from tests.helpers.compare import PROJECT, assert_picture, run_compare


def test_sweep_then_compare(tmp_path, cache_dir, data_dir):
    sweep = tmp_path / "sweep"
    ran = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "mode=map,burst", "workers=2,3", "app=hello",
         f"hydra.sweep.dir={sweep}", f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert pd.read_csv(sweep / "sweep_summary.csv")["status"].tolist() == ["ok"] * 4

    done = run_compare(str(sweep))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "comparison.csv").set_index(["mode", "workers"])
    assert sorted(table.index) == [("burst", 2), ("burst", 3), ("map", 2), ("map", 3)]
    printed = {tuple(line.split()[:2]): line for line in done.stdout.splitlines()}
    runs = pd.read_csv(sweep / "runs.csv", dtype={"run_id": str})
    run_ids = dict(zip(runs["run"], runs["run_id"], strict=True))
    for overrides in sweep.rglob(".hydra/overrides.yaml"):
        job = overrides.parent.parent
        chosen = dict(item.split("=", 1) for item in yaml.safe_load(overrides.read_text()))
        activations = pd.read_csv(job / "activations.csv")
        workers = pd.read_csv(job / "workers.csv")
        makespan = activations["end_ms"].max() - activations["submit_ms"].min()
        spread = workers["start_ms"].max() - workers["start_ms"].min()
        row = table.loc[(chosen["mode"], int(chosen["workers"]))]
        assert row["runs"] == 1
        assert row["makespan_ms_median"] == pytest.approx(makespan)
        assert row["startup_spread_ms_median"] == pytest.approx(spread)
        assert row["failed_median"] == 0 and row["valid_median"] == 1
        line = printed[(chosen["mode"], chosen["workers"])]
        assert f"{makespan:.1f}" in line and f"{spread:.1f}" in line
        run_id = run_ids[str(job)]
        assert_picture(sweep / "timelines" / f"{run_id}.png")
    for name in ["makespan_ms_vs_workers", "speedup_vs_workers",
                 "startup_spread_vs_granularity", "start_latency_box", "start_latency_cdf",
                 "running_at_once"]:
        assert_picture(sweep / f"{name}.png")
    assert "skipped breakdown: no workers.csv with any of" in done.stdout  # hello has no parts
