"""A pack's start barrier: no worker begins before the last is forked, and none is stranded.

Workers of a pack wait at a barrier until their parent has forked them all, so
they begin together. A worker that dies at the barrier must still get its
envelope, and its pack-mates must hear why it will never answer instead of
waiting for the deadline; if forking itself fails, no waiting worker starts.
"""

from __future__ import annotations

import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import pytest

from runner.burst import pack
from runner.burst.spec import parse_pack_line
from tests.helpers.burst import pack_lines, run_burst

DEADLINE_S = 30.0


def counts_forked(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    return {"forked_before_me": len(os.listdir(args["dir"]))}


def test_no_worker_begins_before_the_last_of_its_pack_is_forked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spawn = pack._spawn

    def spawn_and_mark(fork: Any, worker: int, params: Any) -> Any:
        child = spawn(fork, worker, params)
        Path(params["dir"], str(worker)).touch()  # in the parent, once the fork returned
        return child

    monkeypatch.setattr(pack, "_spawn", spawn_and_mark)
    with tempfile.TemporaryDirectory(dir="/tmp") as uri, tempfile.TemporaryDirectory() as marks:
        envelopes = run_burst(
            counts_forked, [{"dir": marks}] * 6, 6, {"backend_type": "Local", "uri": uri}, "gate"
        )
    assert [e["result"] for e in envelopes] == [{"forked_before_me": 6}] * 6


def relay(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    """Worker 0 sends a token round the ring: every worker waits on its left neighbour."""
    me, size = burst.worker_id, burst.burst_size
    if me == 0:
        burst.send(1, b"token")
    token = burst.recv((me - 1) % size)
    if me != 0:
        burst.send((me + 1) % size, token)
    return {"got": bytes(token).decode()}


def test_a_worker_killed_at_the_barrier_is_reported_and_holds_up_no_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spawn = pack._spawn

    def spawn_and_kill_worker_1(fork: Any, worker: int, params: Any) -> Any:
        child = spawn(fork, worker, params)
        if worker == 1:  # the barrier opens only after the last fork: worker 1 dies before it
            os.kill(child.pid, signal.SIGKILL)
        return child

    monkeypatch.setattr(pack, "_spawn", spawn_and_kill_worker_1)
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        envelopes = run_burst(
            relay, [{}] * 4, 4, {"backend_type": "Local", "uri": uri}, "killed", DEADLINE_S
        )
    assert envelopes[1]["error"] == "worker 1 died (signal 9, SIGKILL)"
    assert envelopes[1]["signal"] == signal.SIGKILL
    assert envelopes[1]["result"] is None
    # The others wait on worker 1, or on one who did: each hears why, none waits out the deadline.
    assert envelopes[2]["error"].startswith("BurstPeerError: worker 1 (group 0) died (")
    for me in (0, 2, 3):
        assert envelopes[me]["result"] is None
        assert "worker 1 (group 0) died (" in envelopes[me]["error"]


def marks_start(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    Path(args["dir"], str(burst.worker_id)).touch()
    return {}


def test_when_forking_fails_no_waiting_worker_starts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spawn = pack._spawn
    pids: list[int] = []

    def spawn_until_worker_2(fork: Any, worker: int, params: Any) -> Any:
        if worker == 2:
            raise OSError("fork: resource temporarily unavailable")
        child = spawn(fork, worker, params)
        pids.append(child.pid)
        return child

    monkeypatch.setattr(pack, "_spawn", spawn_until_worker_2)
    started = tmp_path / "started"
    started.mkdir()
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        backend = {"backend_type": "Local", "uri": uri}
        (line,) = pack_lines([{"dir": str(started)}] * 4, 4, backend, "nofork", DEADLINE_S)
        with pytest.raises(OSError, match="resource temporarily unavailable"):
            pack.run_pack(parse_pack_line(line), marks_start)
    assert len(pids) == 2
    for pid in pids:  # killed and reaped at the barrier
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert list(started.iterdir()) == []
