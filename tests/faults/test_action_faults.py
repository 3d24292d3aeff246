"""Actions that misbehave in every way an action can, through the CLI on the embedded platform.

One run per mode: each worker id triggers a different fault, so one run shows
that each fault gets its own failed row with OpenWhisk's status and a readable
error, that the well-behaved workers are unaffected, and that the run ends
with one `failed:` line instead of hanging.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

APP_ERROR = "application error"
DEV_ERROR = "action developer error"
TIMEOUT_MS = 1500
LOG_LIMIT = 10 * 1024 * 1024  # OpenWhisk's default `logs` limit: 10 MB
TRUNCATED = ("Logs were truncated because the total bytes size exceeds the limit of "
             f"{LOG_LIMIT} bytes.")

# Worker id -> what it does. "ok" and "chatty" (20 MB of logs, then a fine answer) succeed.
MAP_FAULTS = ["ok", "raise", "garbage", "list", "silent-exit", "sigkill", "hang", "memory",
              "big-result", "chatty", "chatty-raise", "ok"]
# A burst worker answers its pack process, not fd 3: garbage there is an unserialisable result.
BURST_FAULTS = [("unserialisable" if f == "garbage" else f) for f in MAP_FAULTS]

ACTION = '''
import os
import signal
import sys
import time

FAULTS = {faults!r}


def main(args, burst=None):
    me = burst.worker_id if burst is not None else args["worker_id"]
    fault = FAULTS[me]
    if fault == "raise":
        raise ValueError(f"worker {{me}} refuses")
    if fault == "garbage":
        os.write(3, b"not json\\n")  # on the answer channel, ahead of the real answer
    if fault == "unserialisable":
        return {{"worker_id": me, "slept_ms": 0, "ids": {{1, 2}}}}
    if fault == "list":
        return [me]
    if fault == "silent-exit":
        os._exit(0)
    if fault == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if fault == "hang":
        time.sleep(60)
    if fault == "memory":
        hog = bytearray(1 << 30)  # 1 GB, far above app.memory=128
        return {{"worker_id": me, "slept_ms": len(hog)}}
    if fault == "big-result":
        return {{"worker_id": me, "slept_ms": 0, "blob": "x" * (2 << 20)}}
    if fault.startswith("chatty"):
        line = "y" * 1023 + "\\n"
        for _ in range(20 * 1024):  # 20 MB on stdout
            sys.stdout.write(line)
        if fault == "chatty-raise":
            raise RuntimeError(f"worker {{me}} logged 20 MB, then failed")
    return {{"worker_id": me, "slept_ms": 0}}
'''

EXIT_PREFIX = "The action did not produce a valid response and exited unexpectedly"
MEMORY_EXHAUSTED = r"The action exhausted its memory and was aborted\."
OVERSIZED = (r"The action produced a response that exceeded the allowed length: "
             r"\d+ > 1048576 bytes\.")
# fault -> (status, full error as a regex) of the worker's row
MAP_EXPECTED = {
    "raise": (APP_ERROR, r"ValueError: worker 1 refuses"),
    "garbage": (DEV_ERROR, r"The action did not produce a valid JSON response: not json"),
    "list": (APP_ERROR, r"main must return a dict, got list"),
    "silent-exit": (DEV_ERROR, re.escape(f"{EXIT_PREFIX} (exit code 0).")),
    "sigkill": (DEV_ERROR, re.escape(f"{EXIT_PREFIX} (killed by signal SIGKILL).")),
    "hang": (DEV_ERROR, rf"The action exceeded its time limits of {TIMEOUT_MS} milliseconds\."),
    "memory": (DEV_ERROR, MEMORY_EXHAUSTED),
    "big-result": (DEV_ERROR, OVERSIZED),
    "chatty-raise": (APP_ERROR, r"RuntimeError: worker 10 logged 20 MB, then failed"),
}
# The same fault reads the same in both modes: a worker at its time or memory limit is an
# `action developer error` with OpenWhisk's message, as a map activation is. Without cgroups
# (RLIMIT_DATA) the worker's allocation fails and the worker says so; with them the OOM
# killer ends it and the platform sees its pack's cgroup count the kill: either way the
# platform reports it as OpenWhisk does.
BURST_EXPECTED = {
    "raise": (APP_ERROR, r"ValueError: worker 1 refuses"),
    "unserialisable": (
        APP_ERROR, r"result is not JSON serializable: Object of type set is not JSON serializable"),
    "list": (APP_ERROR, r"main must return a dict, got list"),
    "silent-exit": (APP_ERROR, r"worker 4 died \(exit code 0\)"),
    "sigkill": (APP_ERROR, r"worker 5 died \(signal 9, SIGKILL\)"),
    # the pack kills its hung worker just before the deadline and answers for it, or the
    # platform's own timeout wins that race: the same status and message either way
    "hang": MAP_EXPECTED["hang"],
    "memory": MAP_EXPECTED["memory"],
    "big-result": (DEV_ERROR, OVERSIZED),
    "chatty-raise": (APP_ERROR, r"RuntimeError: worker 10 logged 20 MB, then failed"),
}


def _run_faults(run_cli, tmp_path: Path, mode: str, faults: list[str]):
    action = tmp_path / "faulty_action.py"
    action.write_text(ACTION.format(faults=faults))
    return run_cli(f"mode={mode}", f"workers={len(faults)}", "burst.granularity=1", "app=sleep",
                   "app.sleep_ms=0", f"app.action={action}", f"app.timeout_ms={TIMEOUT_MS}",
                   "app.memory=128")


def _cgroup_limited(run) -> bool:
    """Whether the run's embedded platform limited memory with cgroups (its log says so)."""
    log = (run.run_dir / "platform.log").read_text()
    assert "memory limit: " in log, log
    return "memory limit: a memory cgroup per container" in log


def _check_run(run, faults: list[str], expected: dict) -> pd.DataFrame:
    """The run ended in one `failed:` line; each worker's row says what happened to it."""
    failing = [w for w, fault in enumerate(faults) if fault in expected]
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith(f"failed: {len(failing)} of {len(faults)} workers failed; worker ")

    workers = run.csv("workers.csv").set_index("worker_id").sort_index()
    assert list(workers.index) == list(range(len(faults)))
    for worker, fault in enumerate(faults):
        row = workers.loc[worker]
        if fault not in expected:
            assert row["status"] == "success", (fault, row["error"])
            assert pd.isna(row["error"]) and row["slept_ms"] == 0
            continue
        statuses, error = expected[fault]
        assert row["status"] in (statuses if isinstance(statuses, tuple) else (statuses,)), (
            fault, row["status"], row["error"])
        assert re.fullmatch(error, row["error"]), (fault, row["error"])

    activations = run.csv("activations.csv")
    assert len(activations) == len(faults)  # one map activation or one pack of 1 per worker
    by_id = activations.set_index("activation_id")
    for worker, fault in enumerate(faults):
        status = by_id.loc[workers.loc[worker, "activation_id"], "status"]
        assert status == ("success" if fault not in expected else workers.loc[worker, "status"])
    hang = by_id.loc[workers.loc[faults.index("hang"), "activation_id"]]
    # stopped at its limit, not after 60 s (OpenWhisk's duration includes a cold start)
    hang_run_ms = hang["duration_ms"] - (0 if pd.isna(hang["init_ms"]) else hang["init_ms"])
    assert hang_run_ms <= TIMEOUT_MS + 1000  # slack for a busy machine's event loop

    summary = run.summary
    assert summary["status"] == "failed" and summary["failed"] == len(failing)

    chatty = workers.loc[faults.index("chatty-raise"), "activation_id"]
    saved = (run.run_dir / "logs" / f"{chatty}.log").read_text().splitlines()
    assert saved[-1].endswith(f"stderr: {TRUNCATED}")
    assert sum(len(line) for line in saved) < LOG_LIMIT * 1.1  # 10 MB kept of 20 MB
    return workers


def test_each_map_fault_is_its_own_failed_row(run_cli, tmp_path):
    run = _run_faults(run_cli, tmp_path, "map", MAP_FAULTS)
    _check_run(run, MAP_FAULTS, MAP_EXPECTED)
    logs = "".join(p.read_text() for p in (run.run_dir / "logs").glob("*.log"))
    assert "ValueError: worker 1 refuses" in logs  # the traceback, for the post-mortem
    # RLIMIT_DATA: the allocation fails and the logs say so; a cgroup: the OOM killer, silently
    assert ("MemoryError" in logs) != _cgroup_limited(run)


def test_each_burst_fault_is_its_own_failed_row(run_cli, tmp_path):
    run = _run_faults(run_cli, tmp_path, "burst", BURST_FAULTS)
    workers = _check_run(run, BURST_FAULTS, BURST_EXPECTED)
    assert sorted(workers["pack"]) == list(range(len(BURST_FAULTS)))
