"""Resume: an interrupted run collects what finished afterwards, if the platform outlived it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from runner.client.openwhisk import OpenWhiskClient
from tests.helpers.running import marked_sleep, wait_running

PROJECT = Path(__file__).resolve().parent.parent.parent


def test_resume_collects_activations_that_finished_after_the_interrupt(
        standalone_platform, tmp_path, cache_dir, data_dir):
    run_dir = tmp_path / "run"
    action, markers = marked_sleep(tmp_path)
    target = [f"platform.api_host={standalone_platform['APIHOST']}",
              f"platform.auth={standalone_platform['AUTH']}"]
    runner = subprocess.Popen(
        [sys.executable, "-m", "runner", "platform=openwhisk", *target, "mode=map", "workers=3",
         "app=sleep", "app.sleep_ms=4000", f"app.action={action}", f"hydra.run.dir={run_dir}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_running(markers, 3, runner)  # invoked, still sleeping
    runner.send_signal(signal.SIGINT)
    runner.communicate(timeout=60)
    assert runner.returncode == 130
    assert pd.read_csv(run_dir / "summary.csv").iloc[0]["status"] == "interrupted"
    assert "REDACTED" in (run_dir / ".hydra" / "overrides.yaml").read_text()

    # the activations end on the platform meanwhile
    client = OpenWhiskClient(standalone_platform["APIHOST"], standalone_platform["AUTH"])
    ids = pd.read_csv(run_dir / "activations.csv")["activation_id"]
    deadline = time.monotonic() + 60
    while any(client.get_activation(i) is None for i in ids):
        assert time.monotonic() < deadline, "the activations never ended"
        time.sleep(0.2)
    resumed = subprocess.run(
        [sys.executable, "-m", "runner.resume", str(run_dir), target[1]],
        cwd=PROJECT, capture_output=True, text=True, timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("ok: 3 workers slept >= 4000 ms")
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    assert summary["status"] == "ok" and summary["valid"] and summary["resumed"]
    workers = pd.read_csv(run_dir / "workers.csv")
    assert sorted(workers["worker_id"]) == [0, 1, 2]
    assert (workers["status"] == "success").all() and (workers["slept_ms"] >= 4000).all()
    assert len(pd.read_csv(run_dir / "activations.csv")) == 3


def test_resume_of_an_embedded_run_explains_why_it_cannot(tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / ".hydra").mkdir(parents=True)
    (run_dir / ".hydra" / "config.yaml").write_text(
        "platform:\n  name: local\napp:\n  name: sleep\n")
    done = subprocess.run([sys.executable, "-m", "runner.resume", str(run_dir)], cwd=PROJECT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "embedded platform, which stopped with it" in done.stderr
