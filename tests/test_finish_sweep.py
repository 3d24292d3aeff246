"""An interrupted sweep keeps its summary, and `--finish` runs only the jobs not ok yet."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.helpers.running import wait_for

# Job 2 takes 4 s, so a signal sent once it has connected to the platform surely reaches it
# running, and it is short enough to run again; job 3 never starts.
SWEEP = ["-m", "mode=map", "workers=2", "app=sleep", "app.sleep_ms=10,20,4000,30"]



def _job(sweep: Path, number: int) -> Path:
    [found] = sweep.glob(f"{number}_*")
    return found


def test_interrupted_sweep_is_summarized_and_finished_by_the_switch(tmp_path, cache_dir,
                                                                     data_dir):
    cwd = tmp_path / "project"
    cwd.mkdir()
    common = [f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"]
    command = [sys.executable, "-m", "runner", *SWEEP, *common]
    runner = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    sweeps = cwd / "outputs" / "sweeps"
    wait_for(lambda: list(sweeps.glob("*/*/2_*/provenance.json")), "job 2 to start")
    [sweep] = [path.parent.parent for path in sweeps.glob("*/*/2_*/provenance.json")]
    runner.send_signal(signal.SIGINT)
    _, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 130, stderr
    assert f"sweep summary: {sweep.relative_to(cwd) / 'sweep_summary.csv'}" in stderr
    assert "the same command with --finish" in stderr
    interrupted = pd.read_csv(sweep / "sweep_summary.csv")
    assert interrupted["status"].tolist() == ["ok", "ok", "interrupted"]
    kept = {number: (_job(sweep, number) / "summary.csv").read_bytes() for number in (0, 1)}

    other = [arg.replace("4000", "30") for arg in command] + ["--finish"]
    refused = subprocess.run(other, cwd=cwd, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr  # no sweep of *these* overrides
    assert refused.stderr == ("config error: no sweep of these overrides under outputs/sweeps/ "
                              "to finish; name it: --finish=DIR\n")

    done = subprocess.run([*command, "--finish"], cwd=cwd, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("already ok, kept:") == 2
    finished = pd.read_csv(sweep / "sweep_summary.csv")
    assert finished["status"].tolist() == ["ok", "ok", "ok", "ok"]
    assert len(list(sweeps.glob("*/*"))) == 1  # no second sweep directory
    for number, summary in kept.items():
        assert (_job(sweep, number) / "summary.csv").read_bytes() == summary
    earlier = _job(sweep, 2) / ".attempts" / "1"
    assert pd.read_csv(earlier / "summary.csv")["status"].item() == "interrupted"
    assert (earlier / "provenance.json").is_file()
