"""The timeline the runner draws at the end of every run, whatever the run left behind."""

from __future__ import annotations

import pandas as pd
import pytest

from runner.analysis.plots import timeline, write_timeline
from tests.helpers.compare import Run, assert_picture, write_run


def test_timeline_of_a_burst_with_a_failed_worker(tmp_path):
    run_dir = write_run(tmp_path / "run", Run("burst", 6, seed=3, granularity=4,
                                              failed_workers=(5,)))
    assert write_timeline(run_dir) == run_dir / "timeline.png"
    assert_picture(run_dir / "timeline.png")


def test_timeline_of_two_stages_without_activations(tmp_path):
    run_dir = write_run(tmp_path / "run", Run("map", 3, seed=4))
    workers = pd.read_csv(run_dir / "workers.csv")
    later = workers.assign(stage="reduce", start_ms=workers["end_ms"] + 50,
                           end_ms=workers["end_ms"] + 90)
    pd.concat([workers, later]).to_csv(run_dir / "workers.csv", index=False)
    (run_dir / "activations.csv").unlink()
    assert_picture(timeline(run_dir, tmp_path / "stages.png"))


@pytest.mark.parametrize("workers_csv", [None, "", "stage,worker_id,activation_id,pack,"
                                         "start_ms,end_ms,status,error\n"])
def test_nothing_to_draw_gives_none(tmp_path, workers_csv):
    if workers_csv is not None:
        (tmp_path / "workers.csv").write_text(workers_csv)
    assert write_timeline(tmp_path) is None
    assert not (tmp_path / "timeline.png").exists()


def test_workers_that_never_started_give_none(tmp_path):
    (tmp_path / "workers.csv").write_text(
        "stage,worker_id,activation_id,pack,start_ms,end_ms,status,error\n"
        "main,0,,,,,whisk internal error,no answer\n")
    assert write_timeline(tmp_path) is None
