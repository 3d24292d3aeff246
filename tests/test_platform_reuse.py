"""A sweep keeps one embedded platform, yet every job starts cold; nothing outlives the runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd

from tests.helpers.compare import PROJECT
from tests.helpers.running import processes_with, wait_for


def test_sweep_jobs_share_a_platform_and_each_starts_cold(tmp_path, cache_dir, data_dir):
    marker = f"SWEEP_MARK={uuid.uuid4()}"
    sweep = tmp_path / "sweep"
    done = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "mode=map,burst", "workers=3", "app=hello",
         "repeat=2", f"hydra.sweep.dir={sweep}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300,
        env={**os.environ, marker.split("=")[0]: marker.split("=")[1]})
    assert done.returncode == 0, done.stderr
    jobs = pd.read_csv(sweep / "sweep_summary.csv")
    assert jobs["status"].tolist() == ["ok"] * 4
    assert jobs["platform_address"].nunique() == 1  # one platform served the sweep
    pids = {re.search(r"platform pid (\d+)", (Path(run) / "platform.log").read_text()).group(1)
            for run in jobs["run"]}
    assert len(pids) == 1
    for run in jobs["run"]:
        activations = pd.read_csv(Path(run) / "activations.csv").sort_values("start_ms")
        # A cold start has an init time. Within a job a container may serve a second
        # activation, but a job's first one can find no warm container of an earlier job.
        assert pd.notna(activations["init_ms"].iloc[0]), run
    assert jobs["deployed"].tolist() == ["uploaded"] * 4
    wait_for(lambda: not processes_with(marker.encode()), "the sweep's platform to exit",
             timeout_s=10)


def test_a_platform_started_early_for_nothing_exits_with_the_runner(tmp_path):
    marker = f"EARLY_MARK={uuid.uuid4()}"
    done = subprocess.run([sys.executable, "-m", "runner", "workers=0"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, marker.split("=")[0]: marker.split("=")[1]})
    assert done.returncode == 2
    assert done.stderr == "config error: workers=0: must be an integer >= 1\n"
    wait_for(lambda: not processes_with(marker.encode()), "the platform started early to exit",
             timeout_s=10)
