"""What a run writes, checked as a user reads it (README, "What a run writes").

Real runs of two small apps of a test project (tests/data/probe_project): one
whose answer is wrong on purpose, one whose workers answer one after another.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from tests.helpers.compare import assert_picture
from tests.helpers.json_server import JsonHandler, serve
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


# summary.csv's columns as the README lists them, in its order
README_SUMMARY = [
    "app", "mode", "platform", "workers", "granularity", "backend", "repeat_index",
    "status", "message", "valid", "validation", "makespan_ms", "startup_spread_ms",
    "invoke_spread_ms", "activations", "failed", "build_ms", "platform_start_ms", "deploy_ms",
    "run_ms", "validate_ms", "platform_stop_ms", "record_ms", "total_ms", "build_cache",
    "deployed", "requests", "platform_address", "git_commit", "resumed"]
TIME_COLUMNS = ["submit_ms", "accepted_ms", "start_ms", "end_ms", "detected_ms"]


def test_each_summary_column_is_what_the_readme_says_whatever_the_outcome(run_cli, tmp_path):
    before_ms = time.time() * 1000
    run = run_cli("mode=map", "workers=3", "app=sleep", "app.sleep_ms=20")
    after_ms = time.time() * 1000
    assert run.returncode == 0, run.stderr
    table = run.csv("summary.csv")
    assert list(table.columns) == README_SUMMARY and len(table) == 1
    summary = table.iloc[0]
    activations, workers = run.csv("activations.csv"), run.csv("workers.csv")
    # times are epoch milliseconds: the rows' times fall within this test's own clock
    for column in TIME_COLUMNS:
        assert activations[column].between(before_ms, after_ms).all(), column
    assert workers["start_ms"].between(before_ms, after_ms).all()
    assert summary[["app", "mode", "platform", "workers", "repeat_index"]].tolist() == [
        "sleep", "map", "local", 3, 0]
    assert summary[["status", "activations", "failed"]].tolist() == ["ok", 3, 0]
    assert pd.isna(summary["resumed"]) or not summary["resumed"]  # True only after a resume
    assert summary["makespan_ms"] == activations["end_ms"].max() - activations["submit_ms"].min()
    assert summary["invoke_spread_ms"] == (activations["accepted_ms"].max()
                                           - activations["accepted_ms"].min())
    assert summary["startup_spread_ms"] == workers["start_ms"].max() - workers["start_ms"].min()
    assert summary["build_cache"] in ("hit", "miss")
    assert summary["deployed"] == "uploaded"  # a fresh embedded platform has no action yet
    info = json.loads((run.run_dir / "provenance.json").read_text())
    assert summary["platform_address"] == info["platform"]
    assert re.fullmatch(r"embedded platform at http://127\.0\.0\.1:\d+",
                        summary["platform_address"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROBE, capture_output=True,
                          text=True)
    if head.returncode == 0:  # a source tree, not an unpacked archive
        assert summary["git_commit"] == head.stdout.strip()

    # a run stopped at its build has the same columns, empty past the build
    action = tmp_path / "broken.py"
    action.write_text("def main(args)\n    return {}\n")
    stopped = run_cli("mode=map", "workers=3", "app=sleep", f"app.action={action}")
    assert stopped.returncode == 1
    table = stopped.csv("summary.csv")
    assert list(table.columns) == README_SUMMARY and len(table) == 1
    summary = table.iloc[0]
    assert summary["status"] == "error" and summary["message"].startswith(f"{action}, line 1")
    assert summary["activations"] == 0
    assert summary[["makespan_ms", "deploy_ms", "run_ms", "deployed", "requests",
                    "platform_address"]].isna().all()


@pytest.fixture
def counting_proxy(standalone_platform: dict[str, str]) -> Iterator[tuple[str, list[str]]]:
    """(its address, the requests it passed) for a proxy in front of a stand-alone platform."""
    seen: list[str] = []
    upstream = requests.Session()

    class Forward(JsonHandler):
        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            seen.append(f"{self.command} {self.path}")
            answer = upstream.request(
                self.command, standalone_platform["APIHOST"] + self.path, data=body,
                headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                timeout=60)
            self.send_response(answer.status_code)
            self.send_header("Content-Type", answer.headers.get("Content-Type", "text/plain"))
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        do_GET = do_PUT = do_POST = do_DELETE = _forward

    server, url = serve(Forward)
    yield url, seen
    server.shutdown()
    upstream.close()


def test_requests_counts_every_http_request_the_run_sent(run_cli, counting_proxy,
                                                         standalone_platform):
    url, seen = counting_proxy
    run = run_cli("platform=openwhisk", f"platform.api_host={url}",
                  f"platform.auth={standalone_platform['AUTH']}", "mode=map", "workers=3",
                  "app=sleep", "app.sleep_ms=10")
    assert run.returncode == 0, run.stderr
    assert sum(request.startswith("POST ") for request in seen) >= 3  # an invocation each
    assert run.summary["requests"] == len(seen), seen
