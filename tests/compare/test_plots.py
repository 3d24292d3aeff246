"""The timeline the runner draws at the end of every run, whatever the run left behind."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from runner.analysis import plots
from runner.analysis.plots import timeline, write_timeline
from tests.helpers.compare import Run, assert_picture, write_run


def test_timeline_of_a_burst_with_a_failed_worker(tmp_path):
    run_dir = write_run(tmp_path / "run", Run("burst", 6, seed=3, granularity=4,
                                              failed_workers=(5,)))
    assert write_timeline(run_dir) == run_dir / "timeline.png"
    assert_picture(run_dir / "timeline.png")


def test_each_worker_is_a_line_from_submit_to_start_to_end(tmp_path, monkeypatch):
    run_dir = write_run(tmp_path / "run", Run("burst", 6, seed=3, granularity=4))
    drawn: list[Figure] = []
    monkeypatch.setattr(plots, "save", lambda figure, path: drawn.append(figure) or path)
    timeline(run_dir)
    [axes] = drawn[0].axes
    waiting, running = axes.collections[:2]  # grey submit..start, thick start..end
    workers = pd.read_csv(run_dir / "workers.csv").sort_values("worker_id")
    submits = pd.read_csv(run_dir / "activations.csv").set_index("activation_id")["submit_ms"]
    origin = submits.min()  # seconds since the first submit
    expected_wait = [[(submits[a] - origin) / 1000, (s - origin) / 1000]
                     for a, s in zip(workers["activation_id"], workers["start_ms"], strict=True)]
    expected_run = [[(s - origin) / 1000, (e - origin) / 1000]
                    for s, e in zip(workers["start_ms"], workers["end_ms"], strict=True)]
    for collection, expected in ((waiting, expected_wait), (running, expected_run)):
        segments = sorted(collection.get_segments(), key=lambda segment: segment[0][1])
        assert [segment[0][1] for segment in segments] == workers["worker_id"].tolist()
        assert [x for segment in segments for x in (segment[0][0], segment[1][0])] == (
            pytest.approx([x for pair in expected for x in pair]))


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
