"""Bursts through real ``exec`` processes: one process per pack, as an invoker runs them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.helpers.backends import BACKEND_TYPES, backend_for, leftovers
from tests.helpers.burst import pack_lines

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


@pytest.mark.parametrize("backend_type", BACKEND_TYPES)
def test_ten_workers_in_packs_of_three_ring_and_broadcast(
    spawn_action, local_uri: str, backend_type: str, request: pytest.FixtureRequest
) -> None:
    size, granularity = 10, 3
    params = [{"tag": 100 + w} for w in range(size)]
    backend = backend_for(backend_type, local_uri, request)
    lines = pack_lines(params, granularity, backend, f"b1-{backend_type}")
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
    lines = pack_lines(params, granularity, backend, f"b2-{backend_type}")
    for proc, line in zip(procs, lines, strict=True):
        proc.send(line)
    again = [env for proc in procs for env in proc.answer()]
    assert all(env["error"] is None for env in again)
    assert all(proc.close() == 0 for proc in procs)
    assert not [name for name in os.listdir(local_uri) if name.endswith(".sock")]
    if backend_type != "Local":
        for burst_id in (f"b1-{backend_type}", f"b2-{backend_type}"):
            assert leftovers(backend_type, request, burst_id) == []


def test_dead_worker_gets_an_envelope_and_peers_stop_at_once(spawn_action, local_uri) -> None:
    size = 4
    params = [{"tag": w, "crash": 1} for w in range(size)]
    backend = {"backend_type": "Local", "uri": local_uri}
    (line,) = pack_lines(params, size, backend, "b3", timeout_s=30)
    (proc,) = spawn_action(RING_ACTION)
    started = time.time()
    proc.send(line)
    envelopes = proc.answer(timeout=15)
    assert time.time() - started < 3, "peers must not wait for the deadline"
    assert envelopes[1]["error"] == "worker 1 died (exit code 7)"
    # Worker 2 waits on its left neighbour: the pack's parent saw it exit (or its socket did).
    assert envelopes[2]["error"].startswith("BurstPeerError: worker 1 (group 0) died (")
    # Worker 0's message may land in worker 1's socket before that one dies: no error then.
    assert envelopes[0]["error"] is None or envelopes[0]["error"].startswith(
        "BurstPeerError: worker 1 (group 0) "
    )
    # Worker 3 then meets worker 0 or 2 gone for worker 1's sake: the chain names the cause.
    assert envelopes[3]["error"].startswith("BurstPeerError: worker ")
    cause = "worker 1 (group 0) died (exit code 7)"
    assert envelopes[3]["error"].endswith(f" failed: BurstPeerError: {cause}")


WAITS_ACROSS_PACKS = """
import os
import time

def main(args, burst):
    me = burst.worker_id
    if burst.group_id == "1":
        open(os.path.join(args["ready"], str(me)), "w").close()
        time.sleep(60)
    return {"got": bytes(burst.recv(me + 2)).decode()}
"""


def wait_for_files(directory: Path, names: list[str], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not all((directory / name).exists() for name in names):
        assert time.monotonic() < end, f"{names} never appeared in {directory}"
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("backend_type", "how"),
    [
        ("Local", "died (its socket no longer accepts connections)"),
        ("RedisList", "died (its pack stopped sending heartbeats)"),
        ("RedisStream", "died (its pack stopped sending heartbeats)"),
        ("Rabbitmq", "died (its pack's connection to RabbitMQ dropped)"),
        ("S3", "died (its pack stopped sending heartbeats)"),
    ],
)
def test_a_killed_pack_is_noticed_by_the_other_packs(
    spawn_action, local_uri: str, tmp_path: Path, backend_type: str, how: str,
    request: pytest.FixtureRequest,
) -> None:
    """The whole container goes (SIGKILL to the launcher): nobody of that pack can say so."""
    backend = backend_for(backend_type, local_uri, request)
    lines = pack_lines([{"ready": str(tmp_path)}] * 4, 2, backend, f"killed-{backend_type}",
                       timeout_s=30)
    procs = spawn_action(WAITS_ACROSS_PACKS, count=2)
    for proc, line in zip(procs, lines, strict=True):
        proc.send(line)
    wait_for_files(tmp_path, ["2", "3"])
    killed = time.time()
    procs[1].proc.send_signal(signal.SIGKILL)
    envelopes = procs[0].answer(timeout=15)
    assert time.time() - killed < 5, "the other pack must not wait for the deadline"
    assert [e["error"] for e in envelopes] == [
        f"BurstPeerError: worker 2 (group 1) {how}",
        f"BurstPeerError: worker 3 (group 1) {how}",
    ]


@pytest.mark.parametrize("backend_type", BACKEND_TYPES)
def test_a_peer_that_never_arrives_ends_at_the_deadline(
    spawn_action, local_uri: str, tmp_path: Path, backend_type: str,
    request: pytest.FixtureRequest,
) -> None:
    """No pack 1 at all: nothing says it failed, so the deadline is what ends the wait."""
    backend = backend_for(backend_type, local_uri, request)
    started = time.time()  # the deadline counts from here, as the platform's does
    lines = pack_lines([{"ready": str(tmp_path)}] * 4, 2, backend, f"absent-{backend_type}",
                       timeout_s=3)
    (proc,) = spawn_action(WAITS_ACROSS_PACKS)
    proc.send(lines[0])
    envelopes = proc.answer(timeout=15)
    # it waited for the deadline, and not much longer (a loaded machine reports late)
    assert 2.5 < time.time() - started < 8
    # each worker says the deadline ended it: naming the peer it waited for, or, when the
    # machine was too busy for its own report to beat the pack's, as killed at the deadline
    for worker, envelope in zip((0, 1), envelopes, strict=True):
        assert envelope["error"] in (
            f"BurstTimeoutError: timed out waiting for worker {worker + 2} (group 1)",
            f"worker {worker} killed: still running at the deadline"), envelope
