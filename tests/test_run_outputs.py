"""What a run writes, checked as a user reads it (README, "What a run writes").

Real runs of two small apps of a test project (tests/data/probe_project): one
whose answer is wrong on purpose, one whose workers answer one after another.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd

from tests.helpers.compare import assert_picture
from tests.helpers.running import processes_with, wait_for

PROBE = Path(__file__).resolve().parent / "data" / "probe_project"


def _runner(run_dir: Path, cache_dir: Path, *overrides: str) -> list[str]:
    return [sys.executable, "-m", "runner", "--project", str(PROBE), *overrides,
            f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}"]



def _rows(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()


def test_a_wrong_answer_is_status_invalid_and_exit_1(tmp_path, cache_dir):
    run_dir = tmp_path / "run"
    done = subprocess.run(_runner(run_dir, cache_dir, "app=offbyone", "mode=map", "workers=3",
                                  "burst.granularity=2", "burst.backend=rabbitmq"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        "invalid: wrong answer: worker 0 doubled 4 into 9, expected 8"]
    assert done.stdout == f"run directory: {run_dir}\n"
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    assert (summary["status"], bool(summary["valid"]), summary["failed"]) == ("invalid", False, 0)
    assert summary["validation"] == "worker 0 doubled 4 into 9, expected 8"
    # burst settings do not apply to a map run: its summary leaves them empty
    assert pd.isna(summary["granularity"]) and pd.isna(summary["backend"])
    # every worker's full result, as the action returned it
    results = [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]
    assert sorted((r["worker_id"], r["result"]["doubled"]) for r in results) == [
        (0, 9), (1, 11), (2, 13)]
    # the result's scalar keys became workers.csv columns
    workers = pd.read_csv(run_dir / "workers.csv").sort_values("worker_id")
    assert workers["doubled"].tolist() == [9, 11, 13]
    assert (workers["status"] == "success").all()
    # three invocations at least, plus reading and writing the action and polling
    assert summary["requests"] >= 3 + 2
    assert summary["activations"] == 3


def test_rows_are_on_disk_as_activations_finish_and_survive_sigkill(tmp_path, cache_dir):
    run_dir = tmp_path / "run"
    marker = f"PROBE_MARK={uuid.uuid4()}"
    key, value = marker.split("=")
    runner = subprocess.Popen(
        _runner(run_dir, cache_dir, "app=staggered", "app.step_ms=30000", "mode=map",
                "workers=3"), cwd=tmp_path, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, key: value})
    try:
        # worker 0 answers at once, worker 1 after 30 s: its row is there while the run goes on
        wait_for(lambda: len(_rows(run_dir / "workers.csv")) == 1, "worker 0's row")
        assert runner.poll() is None
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
    finally:
        if runner.poll() is None:
            runner.kill()
    workers = _rows(run_dir / "workers.csv")
    assert workers[["worker_id", "status"]].values.tolist() == [[0, "success"]]
    activations = _rows(run_dir / "activations.csv")
    assert len(activations) == 1 and activations["end_ms"].notna().all()
    assert json.loads((run_dir / "results.jsonl").read_text())["result"] == {"slept_ms": 0}
    assert not (run_dir / "summary.csv").exists()  # a SIGKILL leaves no time for it

    # the platform exits when the runner's end of its stdin closes
    wait_for(lambda: not processes_with(marker.encode()), "the platform and its actions to exit",
             timeout_s=20)


def test_the_timeline_of_a_run_appears_once_it_ends(tmp_path, cache_dir):
    run_dir = tmp_path / "run"
    done = subprocess.run(_runner(run_dir, cache_dir, "app=staggered", "app.step_ms=50",
                                  "mode=burst", "workers=4", "burst.granularity=2"),
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: every worker slept its turn\n")
    wait_for(lambda: (run_dir / "timeline.png").is_file(), "timeline.png", timeout_s=30)
    assert_picture(run_dir / "timeline.png")
