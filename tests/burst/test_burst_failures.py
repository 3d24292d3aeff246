"""What users see when workers fail: their own envelope, and peers naming whom they waited for."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from typing import Any

import pytest
from burst_helpers import run_burst

from runner.burst.launcher import ActionLoader, handle_line


def raises_mid_collective(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    burst.barrier()
    if burst.worker_id == args["culprit"]:
        raise ValueError("boom")
    data = burst.broadcast(b"x" if burst.worker_id == 0 else None, root=0)
    return {"got": bytes(data).decode()}


@pytest.mark.parametrize("backend_type", ["Local", "RedisList"])
def test_peers_time_out_naming_the_failed_worker(
    backend_type: str, request: pytest.FixtureRequest
) -> None:
    timeout_s = 3.0
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        target = uri if backend_type == "Local" else request.getfixturevalue("redis_uri")
        backend = {"backend_type": backend_type, "uri": target}
        started = time.time()
        envelopes = run_burst(
            raises_mid_collective, [{"culprit": 4}] * 6, 4, backend, "fail", timeout_s=timeout_s
        )
    assert time.time() - started < timeout_s, "peers must give up before the deadline"
    assert envelopes[4]["error"] == "ValueError: boom"
    # Worker 4 leads group 1: worker 5 waits for it in the broadcast.
    assert envelopes[5]["error"] == "BurstTimeoutError: timed out waiting for worker 4 (group 1)"
    for me in (1, 2, 3):
        assert envelopes[me]["result"] == {"got": "x"}
    # Worker 0 may still hand its message to worker 4 before that one closes: no error then.
    assert envelopes[0]["error"] is None or "worker 4 (group 1)" in envelopes[0]["error"]


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
