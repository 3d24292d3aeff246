"""Scale: ten thousand map activations and a burst of a thousand workers, nothing lost.

Each run is the real CLI on the embedded platform; every activation and every
worker must be on disk exactly once, and the runner's memory must stay what a
few KB per worker make (the bound here only catches a leak that grows with the
run, not a regression of a few MB).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT, CliRun

PEAK_MB = 400  # measured about 80 MB for 10,000 workers; a leak of 30 KB per worker fails it
# Runs the CLI and then says the largest resident size of it or any process it waited for
# (the platform, the actions): this run's own peak, whatever else the suite ran before.
MEASURED = ("import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
            "sys.exit(done.returncode)")


def run_measured(tmp_path: Path, cache_dir: Path, data_dir: Path,
                 *overrides: str) -> tuple[CliRun, float]:
    """`python -m runner` as run_cli runs it, and the peak resident MB of its processes."""
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, sys.executable, "-m", "runner", *overrides,
         f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, capture_output=True, text=True, timeout=300)
    *said, peak_kb = done.stderr.strip().splitlines()
    return CliRun(done.returncode, done.stdout, "\n".join(said), run_dir), int(peak_kb) / 1024


def test_ten_thousand_map_activations_are_each_recorded_once(tmp_path, cache_dir, data_dir):
    run, peak_mb = run_measured(tmp_path, cache_dir, data_dir, "mode=map", "workers=10000",
                                "app=hello")
    assert run.returncode == 0, run.stderr
    assert run.summary["status"] == "ok" and run.summary["activations"] == 10000
    activations = run.csv("activations.csv")
    assert len(activations) == 10000 and activations["activation_id"].is_unique
    assert (activations["status"] == "success").all()
    workers = run.csv("workers.csv")
    assert sorted(workers["worker_id"]) == list(range(10000))
    results = (run.run_dir / "results.jsonl").read_text().splitlines()
    assert len(results) == 10000
    assert peak_mb < PEAK_MB


def test_a_burst_of_a_thousand_workers_in_packs_of_fifty(tmp_path, cache_dir, data_dir):
    run, peak_mb = run_measured(tmp_path, cache_dir, data_dir, "mode=burst", "workers=1000",
                                "burst.granularity=50", "platform.slots=1000", "app=hello")
    assert run.returncode == 0, run.stderr
    assert run.summary["status"] == "ok"
    activations = run.csv("activations.csv")
    assert len(activations) == 20 and (activations["workers"] == 50).all()
    workers = run.csv("workers.csv")
    assert sorted(workers["worker_id"]) == list(range(1000))
    assert (workers["status"] == "success").all()
    assert sorted(workers.groupby("pack")["worker_id"].count().unique()) == [50]
    assert peak_mb < PEAK_MB


@pytest.mark.parametrize("overrides", [
    ("workers=1000", "burst.granularity=50"),  # 20 packs of 50 on 256 slots
    ("workers=300",),  # one pack of 300 on 256 slots
])
def test_a_burst_the_platform_cannot_hold_is_a_config_error(run_cli, overrides):
    run = run_cli("mode=burst", "app=hello", *overrides)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        f"config error: {overrides[0]}: a burst's packs all run at once, and platform=local "
        "has 1 invoker(s) of 256 worker slots; raise platform.slots or platform.invokers"]
    assert not run.run_dir.exists()
