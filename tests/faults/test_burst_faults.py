"""A burst whose worker, or whole pack, fails in the middle of a collective.

Four workers in two packs of two (group 0: workers 0-1, group 1: workers 2-3)
run a barrier, an all_to_all and an allreduce. Worker 3 misbehaves in the
middle of the all_to_all, after sending to worker 0 and before sending to the
others. The workers still alive must end with errors naming the peer they
lost, long before the action's time limit, and the run with one `failed:` line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

APP_ERROR = "application error"
DEV_ERROR = "action developer error"
KILLED_PACK = ("The action did not produce a valid response and exited unexpectedly "
               "(killed by signal SIGKILL).")

ACTION = '''
import os
import signal
import time

FAULT = {fault!r}
VICTIM = 3


def _misbehave():
    if FAULT == "raise":
        raise RuntimeError("worker 3 gives up mid-collective")
    if FAULT == "exit":
        os._exit(7)
    if FAULT == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if FAULT == "kill-pack":
        os.kill(os.getppid(), signal.SIGKILL)  # the pack's process, which forked this worker
        time.sleep(60)


class Chunks(list):
    """all_to_all reads chunk i just before sending it to worker i: misbehave halfway."""

    def __init__(self, items, me):
        super().__init__(items)
        self.me = me

    def __getitem__(self, dest):
        if self.me == VICTIM and dest == 1:  # worker 3 sends to 0, then to 1, then to 2
            _misbehave()
        return super().__getitem__(dest)


def main(args, burst):
    me = burst.worker_id
    burst.barrier()
    if FAULT == "absent" and me == VICTIM:
        time.sleep(60)  # never enters the all_to_all
    got = burst.all_to_all(Chunks([bytes([me]) * 8 for _ in range(burst.burst_size)], me))
    total = burst.allreduce(bytes([sum(c[0] for c in got)]), lambda a, b: bytes([a[0] + b[0]]))
    return {{"worker_id": me, "slept_ms": 0, "total": total[0]}}
'''


def _run_burst(run_cli, tmp_path: Path, fault: str, timeout_ms: int, *extra: str):
    action = tmp_path / "collective_action.py"
    action.write_text(ACTION.format(fault=fault))
    return run_cli("mode=burst", "workers=4", "burst.granularity=2", "app=sleep", "app.sleep_ms=0",
                   f"app.action={action}", f"app.timeout_ms={timeout_ms}", *extra)


def _failed_line(run) -> str:
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("failed: 4 of 4 workers failed; "), run.stderr
    return lines[0]


def _rows(run) -> tuple[pd.DataFrame, pd.DataFrame]:
    workers = run.csv("workers.csv").set_index("worker_id").sort_index()
    assert list(workers.index) == [0, 1, 2, 3]
    assert workers["pack"].tolist() == [0, 0, 1, 1]
    assert run.summary["status"] == "failed" and run.summary["failed"] == 4
    return workers, run.csv("activations.csv")


@pytest.mark.parametrize(
    ("fault", "own_error"),
    [
        ("raise", "RuntimeError: worker 3 gives up mid-collective"),
        ("exit", "worker 3 died (exit code 7)"),
        ("sigkill", "worker 3 died (signal 9, SIGKILL)"),
    ],
    ids=["raise", "exit", "sigkill"],
)
def test_a_worker_that_fails_mid_collective_is_named_by_its_peers(
        run_cli, tmp_path, fault, own_error):
    run = _run_burst(run_cli, tmp_path, fault, 20_000)
    line = _failed_line(run)
    assert "worker 3" in line
    workers, activations = _rows(run)
    assert (workers["status"] == APP_ERROR).all()
    assert workers.loc[3, "error"] == own_error
    for peer in (0, 1, 2):  # directly, or through the peer that waited on it
        error = workers.loc[peer, "error"]
        assert error.startswith("BurstPeerError: ")
        assert re.search(r"worker 3 \(group 1\) (failed|died|closed its connection)", error), error
    if fault == "raise":  # worker 1 waits on worker 3 alone: the cause travels with the news
        assert workers.loc[1, "error"] == f"BurstPeerError: worker 3 (group 1) failed: {own_error}"
    # peers learnt of the failure at once, not at the 20 s time limit
    assert (activations["duration_ms"] < 5000).all(), activations["duration_ms"]


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_a_killed_pack_is_named_by_the_other_pack(run_cli, tmp_path, request, backend):
    extra = [f"burst.backend={backend}"]
    if backend == "redis":
        extra += [f"burst.backend_uri={request.getfixturevalue('redis_uri')}"]
    run = _run_burst(run_cli, tmp_path, "kill-pack", 20_000, *extra)
    line = _failed_line(run)
    workers, activations = _rows(run)
    # the whole pack of worker 3 (workers 2 and 3) died with its process
    assert (workers.loc[[2, 3], "status"] == DEV_ERROR).all()
    assert (workers.loc[[2, 3], "error"] == KILLED_PACK).all()
    assert re.search(r"worker [23]\b", line)  # a killed worker, or one that names it
    # the other pack's workers name a dead worker of group 1 and say how they knew
    how = {"local": "its socket no longer accepts connections",
           "redis": "its pack stopped sending heartbeats"}[backend]
    assert (workers.loc[[0, 1], "status"] == APP_ERROR).all()
    for peer in (0, 1):
        error = workers.loc[peer, "error"]
        assert re.search(r"worker [23] \(group 1\) (died|closed its connection)", error), error
    # worker 1 waits on worker 3 alone, which never sent it anything
    assert workers.loc[1, "error"] == f"BurstPeerError: worker 3 (group 1) died ({how})"
    # found dead within seconds (local: a refused socket; redis: missed heartbeats)
    assert (activations["duration_ms"] < 8000).all(), activations["duration_ms"]


def test_a_peer_that_never_arrives_times_out_its_waiters_by_name(run_cli, tmp_path):
    timeout_ms = 3000
    run = _run_burst(run_cli, tmp_path, "absent", timeout_ms)
    line = _failed_line(run)
    assert "timed out waiting for worker 3 (group 1)" in line
    workers, activations = _rows(run)
    for peer in (0, 1, 2):  # worker 2, its pack-mate, too: the pack answers for both
        assert workers.loc[peer, "status"] == APP_ERROR
        assert workers.loc[peer, "error"] == (
            "BurstTimeoutError: timed out waiting for worker 3 (group 1)")
    # the absent worker hit its time limit: OpenWhisk's status and message, as in map mode
    assert workers.loc[3, "status"] == DEV_ERROR
    assert workers.loc[3, "error"] == (
        f"The action exceeded its time limits of {timeout_ms} milliseconds.")
    # everyone waited until just before the time limit, and not past it (the limit is
    # the run's: OpenWhisk's duration also holds a cold start's initTime)
    run_ms = activations["duration_ms"] - activations["init_ms"].fillna(0)
    assert run_ms.between(timeout_ms * 0.8, timeout_ms).all(), run_ms
