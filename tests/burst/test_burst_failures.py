"""What users see when workers fail: their own envelope, and peers naming whom they waited for.

Peers of a failed worker must stop long before the deadline: every burst here
gets a generous deadline and must finish in a small fraction of it.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from typing import Any

import pytest

from runner.burst.launcher import ActionLoader, handle_line
from tests.helpers.backends import BACKEND_TYPES, backend_for
from tests.helpers.burst import run_burst

DEADLINE_S = 30.0
PROMPT_S = 6.0


def raises_mid_collective(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    burst.barrier()
    if burst.worker_id == args["culprit"]:
        raise ValueError("boom")
    data = burst.broadcast(b"x" if burst.worker_id == 0 else None, root=0)
    return {"got": bytes(data).decode()}


@pytest.mark.parametrize("backend_type", BACKEND_TYPES)
def test_peers_of_a_raising_worker_stop_at_once(
    backend_type: str, request: pytest.FixtureRequest
) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as local_dir:
        backend = backend_for(backend_type, local_dir, request)
        started = time.time()
        envelopes = run_burst(
            raises_mid_collective, [{"culprit": 4}] * 6, 4, backend, f"fail-{backend_type}",
            DEADLINE_S,
        )
    assert time.time() - started < PROMPT_S, "peers must not wait for the deadline"
    assert envelopes[4]["error"] == "ValueError: boom"
    # Worker 4 leads group 1: worker 5 waits for it in the broadcast.
    assert envelopes[5]["error"] == "BurstPeerError: worker 4 (group 1) failed: ValueError: boom"
    for me in (1, 2, 3):
        assert envelopes[me]["result"] == {"got": "x"}
    # Worker 0 may still hand its message to worker 4 before that one closes: no error then.
    assert envelopes[0]["error"] is None or "worker 4 (group 1)" in envelopes[0]["error"]


def waits_on_the_next(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    me = burst.worker_id
    if me == burst.burst_size - 1:
        if args["how"] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        raise ValueError("boom")
    return {"got": bytes(burst.recv(me + 1)).decode()}


@pytest.mark.parametrize("backend_type", BACKEND_TYPES)
@pytest.mark.parametrize(
    ("how", "cause"),
    [("raise", "failed: ValueError: boom"), ("kill", "died (signal 9, SIGKILL)")],
)
def test_a_chain_of_waiters_unwinds_and_says_who_waited_on_whom(
    backend_type: str, how: str, cause: str, request: pytest.FixtureRequest
) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as local_dir:
        backend = backend_for(backend_type, local_dir, request)
        started = time.time()
        envelopes = run_burst(waits_on_the_next, [{"how": how}] * 5, 2, backend,
                              f"{how}-{backend_type}", DEADLINE_S)
    assert time.time() - started < PROMPT_S
    expected = f"worker 4 (group 2) {cause}"
    if how == "raise":
        assert envelopes[4]["error"] == "ValueError: boom"
    else:
        assert envelopes[4]["error"] == "worker 4 died (signal 9, SIGKILL)"
    for me in (3, 2, 1, 0):
        expected = f"BurstPeerError: {expected}"
        assert envelopes[me]["error"] == expected
        expected = f"worker {me} (group {me // 2}) failed: {expected}"


def misbehaves(args: dict[str, Any], burst: Any) -> Any:
    how = args["how"]
    if how == "hang":
        time.sleep(60)
    if how == "signal":
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "list":
        return [1]
    if how == "set":
        return {"value": {1, 2}}
    return {"ok": burst.worker_id}


def test_each_failure_has_its_own_envelope() -> None:
    hows = ["ok", "hang", "signal", "list", "set", "ok"]
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        started = time.time()
        envelopes = run_burst(
            misbehaves,
            [{"how": how} for how in hows],
            3,
            {"backend_type": "Local", "uri": uri},
            "bad",
            timeout_s=2,
        )
    assert time.time() - started < 5
    errors = [envelope["error"] for envelope in envelopes]
    assert errors[0] is None and envelopes[0]["result"] == {"ok": 0}
    assert errors[1] == "worker 1 killed: still running at the deadline"
    assert envelopes[1]["timed_out"] and envelopes[1]["status"] == "action developer error"
    assert "status" not in envelopes[2]  # died of a signal: the worker's own failure
    assert errors[2] == "worker 2 died (signal 9, SIGKILL)"
    assert errors[3] == "main must return a dict, got list"
    assert errors[4].startswith("result is not JSON serializable")
    assert errors[5] is None
    assert all(isinstance(e["start_ms"], int) and e["start_ms"] <= e["end_ms"] for e in envelopes)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"burst_info": {"0": [1, 2]}, "invoker_id": "0", "value": [{}, {}]}, "contiguous"),
        ({"burst_info": {"0": [0, 1]}, "invoker_id": "7", "value": [{}, {}]}, "invoker_id"),
        ({"burst_info": {"0": [0, 1]}, "invoker_id": "0", "value": [{}]}, "list of 2 params"),
    ],
)
def test_malformed_pack_line_is_an_error_answer(line: dict[str, Any], message: str) -> None:
    import json

    answer = handle_line(json.dumps(line).encode(), ActionLoader("json", "dumps"))
    assert answer["error"].startswith("ValueError") and message in answer["error"]


def test_unknown_backend_is_reported_per_worker() -> None:
    envelopes = run_burst(misbehaves, [{"how": "ok"}] * 2, 1, {"backend_type": "Carrier"}, "x")
    assert all("unsupported backend_type 'Carrier'" in e["error"] for e in envelopes)


CLI_ACTION = """
def keep_left(left, right):
    return left

def main(args, burst=None):
    if burst.worker_id == 3:
        raise ValueError("boom")
    burst.allreduce(b"x", keep_left)
    return {"worker_id": burst.worker_id, "slept_ms": 0}
"""


def test_workers_csv_tells_who_failed_and_who_waited_on_whom(run_cli, tmp_path) -> None:
    """Through the whole stack: the failure ends the burst in seconds, not at its time limit."""
    action = tmp_path / "fails.py"
    action.write_text(CLI_ACTION)
    run = run_cli("mode=burst", "workers=6", "burst.granularity=2", "app=sleep",
                  f"app.action={action}", "app.timeout_ms=60000")
    assert run.returncode == 1
    assert run.summary["makespan_ms"] < 15_000
    errors = run.csv("workers.csv").set_index("worker_id").sort_index()["error"].tolist()
    cause = "worker 3 (group 1) failed: ValueError: boom"
    assert errors[3] == "ValueError: boom"
    # The reduction tree: 2 waits on 3, leader 0 on 2, then everyone on 0's broadcast.
    assert errors[2] == f"BurstPeerError: {cause}"
    assert errors[0] == f"BurstPeerError: worker 2 (group 1) failed: BurstPeerError: {cause}"
    for waiter, waited in ((1, "worker 0 (group 0)"), (4, "worker 0 (group 0)"),
                           (5, "worker 4 (group 2)")):
        assert errors[waiter].startswith(f"BurstPeerError: {waited} failed: ")
        assert errors[waiter].endswith(cause)


def test_long_chains_of_causes_keep_their_ends(tmp_path) -> None:
    from runner.burst.backends.local import read_failure
    from runner.burst.notices import MAX_REASON, PackNotices
    from runner.burst.spec import parse_pack_line

    line = {"burst_info": {"0": [0, 1]}, "invoker_id": "0", "value": [{}, {}]}
    notices = PackNotices(parse_pack_line(line), str(tmp_path))
    notices.failed(1, "first hop " + "x" * 5000 + " root cause")
    posted = read_failure(str(tmp_path), 1)
    assert posted is not None and len(posted) <= MAX_REASON + 7
    assert posted.startswith("first hop ") and posted.endswith(" root cause")
