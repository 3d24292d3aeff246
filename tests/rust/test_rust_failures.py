"""A Rust worker that panics, a pack killed with SIGKILL, a peer that never sends: the
waiting workers fail well before the activation's deadline (or at the communication
deadline for a silent peer), each naming the worker it waited for."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.helpers.burst import pack_lines
from tests.rust.conftest import backend

DEADLINE_S = 30.0


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_worker_that_panics_mid_collective_fails_its_peers_naming_it(
        kind, burst_of, local_dir, redis_uri):
    burst = burst_of("probe", 5, 2)
    params = [{"script": "panic", "victim": 3}] * 5
    started = time.monotonic()
    envelopes = burst.run(params, backend(kind, local_dir, redis_uri), f"panic-{kind}",
                          timeout_s=DEADLINE_S)
    elapsed = time.monotonic() - started
    assert envelopes[3]["error"] == "main panicked: boom in worker 3"
    assert envelopes[3]["result"] is None
    # all_to_all receives from worker me-1, me-2, ...: each peer ends up waiting on worker 3.
    for worker in (0, 1, 2, 4):
        assert envelopes[worker]["error"] is None, envelopes[worker]
        assert envelopes[worker]["result"]["error"] == (
            "worker 3 (group 1) failed: main panicked: boom in worker 3")
    assert elapsed < 10, f"peers took {elapsed:.1f} s of {DEADLINE_S:.0f} to learn of the panic"


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_pack_killed_with_sigkill_fails_its_peers_naming_the_worker(
        kind, burst_of, local_dir, redis_uri):
    burst = burst_of("probe", 4, 2)
    # Workers 0 and 1 wait on worker 2 (pack 1), whose own workers wait on worker 0.
    params = [{"script": "wait", "peer": 2}] * 2 + [{"script": "wait", "peer": 0}] * 2
    lines = pack_lines(params, 2, backend(kind, local_dir, redis_uri), f"kill-{kind}",
                       DEADLINE_S)
    for pack, line in zip(burst.packs, lines, strict=True):
        pack.send(line)
    time.sleep(1.0)
    os.kill(burst.packs[1].pid, signal.SIGKILL)
    killed = time.monotonic()
    answer = burst.packs[0].answer(DEADLINE_S)
    elapsed = time.monotonic() - killed
    reason = ("died (its socket no longer accepts connections)" if kind == "local"
              else "died (its pack stopped sending heartbeats)")
    assert [envelope["result"]["error"] for envelope in answer] == [
        f"worker 2 (group 1) {reason}"] * 2
    assert elapsed < 10, f"peers took {elapsed:.1f} s of {DEADLINE_S:.0f} to learn of the kill"


def test_a_peer_that_never_sends_times_out_naming_it(burst_of, local_dir):
    burst = burst_of("probe", 2, 1)
    params = [{"script": "wait", "peer": 1}, {"script": "wait", "peer": 0}]
    started = time.monotonic()
    envelopes = burst.run(params, backend("local", local_dir, ""), "silent", timeout_s=3.0)
    elapsed = time.monotonic() - started
    assert envelopes[0]["result"]["error"] == "timed out waiting for worker 1 (group 1)"
    assert envelopes[1]["result"]["error"] == "timed out waiting for worker 0 (group 0)"
    assert 2.0 < elapsed < 6.0  # at the communication deadline (2.7 s), not later


def test_an_unreachable_redis_is_every_worker_s_error_in_one_line(burst_of):
    burst = burst_of("probe", 2, 1)
    envelopes = burst.run([{"script": "wait", "peer": 1}] * 2,
                          {"backend_type": "RedisList", "uri": "redis://127.0.0.1:1"}, "nored",
                          timeout_s=10)
    for envelope in envelopes:
        assert envelope["error"].startswith("cannot reach Redis at 127.0.0.1:1: "), envelope
