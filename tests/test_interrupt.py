"""Ctrl-C and SIGTERM: rows so far are kept, the summary says so, nothing is left running."""

import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.running import marked_sleep, processes_with, wait_for, wait_running

PROJECT = Path(__file__).resolve().parent.parent


def ended(pid: int) -> bool:
    """The process is gone or a zombie (its parent, the runner, is gone too)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True



@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_during_wait_keeps_rows_and_leaves_no_process(tmp_path, cache_dir, data_dir,
                                                               signum, code):
    run_dir = tmp_path / "run"
    action, markers = marked_sleep(tmp_path)
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "mode=map", "workers=6", "app=sleep",
         "app.sleep_ms=600000", f"app.action={action}", f"hydra.run.dir={run_dir}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    log = run_dir / "platform.log"
    wait_running(markers, 6, runner)  # invocations sent, actions sleeping
    runner.send_signal(signum)
    stdout, stderr = runner.communicate(timeout=60)
    assert runner.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == (
        "interrupted: stopped before the end; the rows measured so far are kept")
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    assert summary["status"] == "interrupted"
    workers = pd.read_csv(run_dir / "workers.csv")
    assert len(workers) == 6 and (workers["status"] == "unfinished").all()

    platform_pid = int(re.search(r"platform pid (\d+)", log.read_text()).group(1))
    api_host = re.search(r"at (http://\S+)", summary["platform_address"]).group(1)
    wait_for(lambda: ended(platform_pid), "the platform to stop", timeout_s=10)
    assert processes_with(f"__OW_API_HOST={api_host}".encode()) == []


def test_interrupt_during_invoke_stops_invoking_and_keeps_what_was_sent(tmp_path, cache_dir,
                                                                        data_dir):
    run_dir = tmp_path / "run"
    action, markers = marked_sleep(tmp_path)
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "mode=map", "workers=5000", "app=sleep",
         "app.sleep_ms=600000", f"app.action={action}", "invoke.concurrency=1",
         "platform.slots=2", f"hydra.run.dir={run_dir}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_running(markers, 2, runner)  # deployed, invoking one at a time, both slots busy
    runner.send_signal(signal.SIGINT)
    stdout, stderr = runner.communicate(timeout=60)
    assert runner.returncode == 130, stderr
    activations = pd.read_csv(run_dir / "activations.csv")
    assert 0 < len(activations) < 5000, "invoking stopped at the interrupt"
    assert (activations["status"] == "unfinished").all()
    assert activations["activation_id"].notna().all() and activations["activation_id"].is_unique
    assert pd.read_csv(run_dir / "summary.csv").iloc[0]["status"] == "interrupted"
