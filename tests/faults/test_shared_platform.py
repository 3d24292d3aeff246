"""One stand-alone platform for several runners at once, and a platform that dies mid-run."""

from __future__ import annotations

import contextlib
import re
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from tests.helpers.running import marked_sleep, wait_for, wait_running

PROJECT = Path(__file__).resolve().parent.parent.parent
AUTH = "6c1f8d2a-3b4e-4f5a-9c7d-2e8f1a0b3c4d:" + "s" * 64


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _platform(port: int, state: Path | None = None, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "runner.platform", "--port", str(port), "--auth", AUTH,
               "--exit-with-stdin", *options]
    if state is not None:
        command += ["--state", str(state)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, cwd=PROJECT)
    assert process.stdout.readline().startswith(b"APIHOST=")
    return process


def _running_on_disk(state: Path) -> int:
    """Activations the platform's committed state records as running (read as another process)."""
    with contextlib.closing(sqlite3.connect(state, timeout=5)) as db:
        return db.execute("SELECT COUNT(*) FROM running").fetchone()[0]


def _runner(port: int, run_dir: Path, cache: Path, data_dir: Path,
            *overrides: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", "platform=openwhisk",
         f"platform.api_host=http://127.0.0.1:{port}", f"platform.auth={AUTH}", *overrides,
         f"hydra.run.dir={run_dir}", f"build.cache_dir={cache}", f"data_dir={data_dir}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_four_runners_share_one_platform_and_one_cold_cache(tmp_path, data_dir):
    # two apps in both modes: each app's action is built by two runs at once into an empty
    # cache, and deployed by both to the one platform while the other may be running it
    port = _free_port()
    platform = _platform(port)
    cache = tmp_path / "cold-cache"
    own = {"hello": [], "sleep": ["app.sleep_ms=1500"]}
    jobs = {(app, mode): [f"app={app}", f"mode={mode}", "workers=6", "burst.granularity=3",
                          *own[app]]
            for app in own for mode in ("map", "burst")}
    try:
        runners = {job: _runner(port, tmp_path / "-".join(job), cache, data_dir, *overrides)
                   for job, overrides in jobs.items()}
        ended = {job: runner.communicate(timeout=240) for job, runner in runners.items()}
    finally:
        platform.stdin.close()
        platform.wait(timeout=30)
    seen: set[str] = set()
    for (app, mode), runner in runners.items():
        stdout, stderr = ended[(app, mode)]
        assert runner.returncode == 0, (app, mode, stderr)
        run_dir = tmp_path / f"{app}-{mode}"
        summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
        assert summary["status"] == "ok" and summary["valid"], (app, mode, summary["message"])
        activations = pd.read_csv(run_dir / "activations.csv")
        workers = pd.read_csv(run_dir / "workers.csv")
        # its own activations only: one per worker (map) or per pack of 3 (burst), no other's
        assert len(activations) == (6 if mode == "map" else 2), (app, mode)
        assert sorted(workers["worker_id"]) == list(range(6))
        assert (workers["status"] == "success").all()
        ids = set(activations["activation_id"])
        assert not ids & seen, "an activation recorded by two runs"
        seen |= ids
    assert len(list(cache.glob("python-*.zip"))) == 2  # one zip per app, however many builds




def test_a_platform_killed_mid_run_stops_the_wait_within_seconds(tmp_path, cache_dir,
                                                                   data_dir):
    port = _free_port()
    state = tmp_path / "platform.sqlite"
    platform = _platform(port, state)
    action, markers = marked_sleep(tmp_path)
    run_dir = tmp_path / "run"
    runner = _runner(port, run_dir, cache_dir, data_dir, "mode=map", "workers=3", "app=sleep",
                     "app.sleep_ms=30000", f"app.action={action}", "wait.timeout_s=600")
    wait_running(markers, 3, runner)
    # the platform commits its state every 0.2 s: kill it once the three are on disk, so the
    # restarted one can answer for them (a crash may lose the last fraction of a second)
    wait_for(lambda: _running_on_disk(state) == 3, "the state file to hold 3 activations")
    platform.kill()
    platform.wait(timeout=30)
    killed = time.monotonic()
    stdout, stderr = runner.communicate(timeout=120)
    took = time.monotonic() - killed
    assert runner.returncode == 1, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert lines[-1] == (
        f"error: stopped waiting for 3 activations: cannot reach http://127.0.0.1:{port}: "
        "connection refused for 5.0 s (nothing listens there: check platform.api_host, or "
        "APIHOST in ~/.wskprops, or whether the platform stopped); the rows so far are kept, "
        "and `python -m runner.resume RUN_DIR` collects the rest once the platform is back")
    # the line said while waiting for the refusals to end, and nothing else
    assert lines[:-1] == [f"waiting: http://127.0.0.1:{port} refuses connections; giving up "
                          "after 5 s"], lines
    assert took < 15, took  # not wait.timeout_s
    workers = pd.read_csv(run_dir / "workers.csv")
    assert sorted(workers["worker_id"]) == [0, 1, 2]
    assert (workers["status"] == "unfinished").all()
    assert pd.read_csv(run_dir / "summary.csv").iloc[0]["status"] == "error"

    platform = _platform(port, state)  # back, with what it had recorded
    try:
        resumed = subprocess.run(
            [sys.executable, "-m", "runner.resume", str(run_dir), f"platform.auth={AUTH}"],
            cwd=PROJECT, capture_output=True, text=True, timeout=60)
    finally:
        platform.stdin.close()
        platform.wait(timeout=30)
    # the restarted platform knows the activations its crash cut off, and says so
    assert resumed.returncode == 1, resumed.stderr
    # a failure is one line on stderr, as a run's is
    assert resumed.stdout == ""
    # naming the first failure resume found: any of the three
    assert re.fullmatch(r"failed: 3 of 3 workers failed; worker [012]: The platform stopped "
                        r"before the activation ended\.", resumed.stderr.strip()), resumed.stderr
    workers = pd.read_csv(run_dir / "workers.csv")
    assert sorted(workers["worker_id"]) == [0, 1, 2]
    assert (workers["status"] == "whisk internal error").all()
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    assert summary["resumed"] and summary["status"] == "failed"
    # nothing was produced, so nothing was checked (as in a run that failed so)
    assert summary["validation"] == "skipped: 3 workers failed, so their results are missing"


def _throttled_run(tmp_path: Path, cache_dir: Path, data_dir: Path, throttle: list[str],
                   workers: int) -> tuple[subprocess.Popen, str, str]:
    """A map run of `workers` at once on a stand-alone platform with OpenWhisk's throttle."""
    port = _free_port()
    platform = _platform(port, None, *throttle)
    try:
        runner = _runner(port, tmp_path / "run", cache_dir, data_dir, "mode=map",
                         f"workers={workers}", "app=sleep", "app.sleep_ms=200")
        stdout, stderr = runner.communicate(timeout=180)
    finally:
        platform.stdin.close()
        platform.wait(timeout=30)
    return runner, stdout, stderr


def test_throttling_is_said_in_a_waiting_line_and_the_run_goes_on(tmp_path, cache_dir,
                                                                   data_dir):
    # 6 invoked at once, 2 admitted: the others are refused (429) until those end
    started = time.monotonic()
    runner, stdout, stderr = _throttled_run(tmp_path, cache_dir, data_dir,
                                            ["--concurrent-invocations", "2"], workers=6)
    took = time.monotonic() - started
    assert runner.returncode == 0, stderr
    assert stdout.startswith("ok: 6 workers slept >= 200 ms"), stdout
    # the refused were submitted at once but accepted only as the first ones ended: the
    # summary's invoke spread is the accepted one's
    activations = pd.read_csv(tmp_path / "run" / "activations.csv")
    accepted = activations["accepted_ms"].max() - activations["accepted_ms"].min()
    assert accepted > activations["submit_ms"].max() - activations["submit_ms"].min()
    summary = pd.read_csv(tmp_path / "run" / "summary.csv").iloc[0]
    assert summary["invoke_spread_ms"] == accepted
    lines = stderr.splitlines()
    assert lines, "the retries were not said"
    for line in lines:
        assert re.fullmatch(r"waiting: http://127\.0\.0\.1:\d+ answered HTTP 429 \(Too many "
                            r"concurrent requests in flight \(count: 2, allowed: 2\)\.\); "
                            r"retrying with backoff", line), line
    assert len(lines) <= 1 + took / 10  # said at most every 10 s
    workers = pd.read_csv(tmp_path / "run" / "workers.csv")
    assert sorted(workers["worker_id"]) == list(range(6)) and (workers["status"] == "success").all()


def test_an_invocation_throttled_past_the_retries_is_a_failed_row_with_the_message(
        tmp_path, cache_dir, data_dir):
    refusal = "Too many requests in the last minute (count: 2, allowed: 2)."
    runner, _, stderr = _throttled_run(tmp_path, cache_dir, data_dir,
                                       ["--invocations-per-minute", "2"], workers=3)
    assert runner.returncode == 1, stderr
    lines = stderr.splitlines()
    assert lines[0].startswith("waiting: ") and refusal in lines[0], lines
    assert re.fullmatch(r"failed: 1 of 3 workers failed; worker \d: HTTP 429: "
                        + re.escape(refusal), lines[-1]), lines
    activations = pd.read_csv(tmp_path / "run" / "activations.csv")
    refused = activations[activations["status"] == "not invoked"]
    assert len(refused) == 1 and refused["error"].tolist() == [f"HTTP 429: {refusal}"]
    assert (activations["status"] != "not invoked").sum() == 2
    assert pd.read_csv(tmp_path / "run" / "summary.csv").iloc[0]["status"] == "failed"
