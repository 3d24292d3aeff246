"""Bursts through real ``exec`` processes: one process per pack, as an invoker runs them."""

from __future__ import annotations

import os
import time

import pytest
from burst_helpers import leftover_keys, pack_lines

RING_ACTION = """
import os
import numpy as np

def main(args, burst):
    me, size = burst.worker_id, burst.burst_size
    if args.get("crash") == me:
        os._exit(7)
    right, left = (me + 1) % size, (me - 1) % size
    burst.send(right, np.array([me, args["tag"]], dtype=np.int64))
    got = np.frombuffer(burst.recv(left), dtype=np.int64)
    seed = b"from-root" if me == 0 else None
    shared = burst.broadcast(seed, root=0)
    return {"left": got.tolist(), "shared": bytes(shared).decode(), "size": size,
            "group": burst.group_id, "ranges": {g: list(r) for g, r in burst.group_ranges.items()},
            "pid": os.getpid()}
"""


@pytest.mark.parametrize("backend_type", ["Local", "RedisList"])
def test_ten_workers_in_packs_of_three_ring_and_broadcast(
    spawn_action, local_uri: str, backend_type: str, request: pytest.FixtureRequest
) -> None:
    size, granularity = 10, 3
    params = [{"tag": 100 + w} for w in range(size)]
    uri = local_uri if backend_type == "Local" else request.getfixturevalue("redis_uri")
    backend = {"backend_type": backend_type, "uri": uri}
    lines = pack_lines(params, granularity, backend, "b1")
    assert len(lines) == 4
    procs = spawn_action(RING_ACTION, count=len(lines))
    for proc, line in zip(procs, lines, strict=True):
        proc.send(line)
    answers = [proc.answer() for proc in procs]
    envelopes = [env for answer in answers for env in answer]
    assert [env["worker_id"] for env in envelopes] == list(range(size))
    for env in envelopes:
        w = env["worker_id"]
        assert env["error"] is None, env
        left = (w - 1) % size
        assert env["result"]["left"] == [left, 100 + left]
        assert env["result"]["shared"] == "from-root"
        assert env["result"]["size"] == size
        assert env["result"]["group"] == str(w // granularity)
        assert env["result"]["ranges"]["3"] == [9, 9]
        assert isinstance(env["start_ms"], int) and env["start_ms"] <= env["end_ms"]
    for proc, answer in zip(procs, answers, strict=True):
        pids = {env["result"]["pid"] for env in answer}
        assert proc.pid not in pids and len(pids) == len(answer), "one forked process per worker"
    # Warm containers: the same processes serve the next burst.
    lines = pack_lines(params, granularity, backend, "b2")
    for proc, line in zip(procs, lines, strict=True):
        proc.send(line)
    again = [env for proc in procs for env in proc.answer()]
    assert all(env["error"] is None for env in again)
    assert all(proc.close() == 0 for proc in procs)
    assert not [name for name in os.listdir(local_uri) if name.endswith(".sock")]
    if backend_type == "RedisList":
        assert leftover_keys(uri, "b1") == leftover_keys(uri, "b2") == []


def test_dead_worker_gets_an_envelope_and_peers_time_out(spawn_action, local_uri) -> None:
    size = 4
    params = [{"tag": w, "crash": 1} for w in range(size)]
    backend = {"backend_type": "Local", "uri": local_uri}
    (line,) = pack_lines(params, size, backend, "b3", timeout_s=4)
    (proc,) = spawn_action(RING_ACTION)
    started = time.time()
    proc.send(line)
    envelopes = proc.answer(timeout=15)
    assert time.time() - started < 4
    assert envelopes[1]["error"] == "worker 1 died (exit code 7)"
    # Worker 2 waits on its left neighbour; worker 0 must reach worker 1 in the broadcast.
    assert envelopes[2]["error"] == "BurstTimeoutError: timed out waiting for worker 1 (group 0)"
    # Worker 0's message may land in worker 1's socket before that one dies: no error then.
    assert envelopes[0]["error"] in (
        None,
        "BurstTimeoutError: timed out sending to worker 1 (group 0)",
        "BurstError: lost the connection to worker 1 (group 0): [Errno 32] Broken pipe",
    )
    assert envelopes[3]["error"] is None or "worker 2" in envelopes[3]["error"]
