"""A controller that restarts mid-run (embedded platform with persistence): nothing is lost or
duplicated; activations cut off by the restart are recorded with the platform's verdict."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.helpers.running import marked_sleep, wait_running

PROJECT = Path(__file__).resolve().parent.parent.parent
AUTH = "0f3b5e52-7c39-4a8f-9a0f-3f1c2a7d9e11:" + "k" * 64


def _start(port: int, state: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "runner.platform", "--port", str(port), "--auth", AUTH,
         "--state", str(state), "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=PROJECT,
    )
    assert process.stdout.readline().startswith(b"APIHOST=")
    return process


def test_restart_with_persistence_keeps_every_activation_once(tmp_path, cache_dir, data_dir):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "platform.sqlite"
    platform = _start(port, state)
    run_dir = tmp_path / "run"
    action, markers = marked_sleep(tmp_path)
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "platform=openwhisk",
         f"platform.api_host=http://127.0.0.1:{port}", f"platform.auth={AUTH}", "mode=map",
         "workers=3", "app=sleep", "app.sleep_ms=20000", f"app.action={action}",
         "wait.timeout_s=60", f"hydra.run.dir={run_dir}", f"build.cache_dir={cache_dir}",
         f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_running(markers, 3, runner)
    platform.terminate()
    platform.wait(timeout=30)
    # back within the runner's grace for a controller that answered before (5 s)
    platform = _start(port, state)
    try:
        stdout, stderr = runner.communicate(timeout=90)
    finally:
        platform.stdin.close()
        platform.wait(timeout=30)
    assert runner.returncode == 1, stderr
    assert "Traceback" not in stderr
    activations = pd.read_csv(run_dir / "activations.csv")
    workers = pd.read_csv(run_dir / "workers.csv")
    assert len(activations) == 3 and activations["activation_id"].is_unique
    assert sorted(workers["worker_id"]) == [0, 1, 2]
    # cut off by the stop: the restarted platform says so, the runner records it
    assert (activations["status"] == "whisk internal error").all(), activations["status"]
