"""Pack-mates hand big messages over in shared memory, and no memory outlives the pack."""

from __future__ import annotations

import glob
import os
import tempfile
import time
from typing import Any

import numpy as np

from runner.burst import pack
from tests.helpers.burst import pack_lines, run_burst

BIG = 4 << 20  # above pack.SEGMENTS_FROM
SMALL = 1000


def _pack_dir_entries() -> list[str]:
    """What this worker's pack directory holds (its parent is the pack's launcher)."""
    [directory] = glob.glob(f"{pack.MEMORY_DIR}/{pack.PACK_DIR_PREFIX}{os.getppid()}-*")
    return sorted(os.listdir(directory))


def exchange(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    """Worker 0 sends big and small messages in turn; worker 1 checks them as it gets them.

    Worker 1 answers each round once it dropped the round's big message, so
    worker 0 never has more than one in flight.
    """
    if burst.worker_id == 0:
        for round_ in range(args["rounds"]):
            burst.send(1, np.full(BIG, round_, dtype=np.uint8))
            burst.send(1, bytes([round_]) * SMALL)
            burst.recv(1)
        return {}
    kinds, ok = set(), True
    for round_ in range(args["rounds"]):
        big = burst.recv(0)
        array = np.frombuffer(big, dtype=np.uint8)  # no copy: a view of the segment
        ok &= array.size == BIG and bool((array == round_).all())
        array[0] = 255  # the receiver owns what it got: writable
        kinds.add(type(big).__name__)
        ok &= bytes(burst.recv(0)) == bytes([round_]) * SMALL
        del big, array  # the segment goes back to the sender
        burst.send(0, b"done")
    return {"ok": ok, "kinds": sorted(kinds), "files": _pack_dir_entries()}


def test_big_messages_arrive_as_writable_shared_memory_in_order() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        [_, receiver] = run_burst(
            exchange, [{"rounds": 12}] * 2, 2, {"backend_type": "Local", "uri": uri}, "shm"
        )
    assert receiver["error"] is None, receiver["error"]
    assert receiver["result"]["ok"]
    assert receiver["result"]["kinds"] == ["memoryview"]
    # Segments are recycled once the receiver lets go: 12 messages, one segment.
    segments = [name for name in receiver["result"]["files"] if name.endswith((".seg", ".free"))]
    assert segments == ["0.0.free"], receiver["result"]["files"]


HOARD_THEN_DIE = f"""
import glob, os
import numpy as np

def main(args, burst):
    if burst.worker_id == 0:
        for round_ in range(6):
            burst.send(1, np.full({BIG}, round_, dtype=np.uint8))
        burst.recv(1)  # never comes: worker 1 is killed first
        return {{}}
    kept = [burst.recv(0) for _ in range(6)]
    [directory] = glob.glob("{pack.MEMORY_DIR}/{pack.PACK_DIR_PREFIX}%d-*" % os.getppid())
    held = [name for name in os.listdir(directory) if name.endswith(".seg")]
    print("segments held:", len(held), "for", len(kept), "messages", flush=True)
    os.kill(os.getpid(), 9)
"""


def test_a_killed_receiver_leaves_nothing_in_shared_memory(spawn_action) -> None:
    [action] = spawn_action(HOARD_THEN_DIE)
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        [line] = pack_lines([{}, {}], 2, {"backend_type": "Local", "uri": uri}, "die")
        action.send(line)
        answer = action.answer(timeout=60)
    assert "worker 1 died (signal 9, SIGKILL)" in answer[1]["error"]
    assert "worker 1" in answer[0]["error"]
    assert "segments held: 6 for 6 messages" in action.log_text()
    left = glob.glob(f"{pack.MEMORY_DIR}/{pack.PACK_DIR_PREFIX}{action.pid}-*")
    assert left == [], f"pack directories left in memory: {left}"


HOLD_AND_HANG = """
import time
import numpy as np

def main(args, burst):
    if args.get("hang"):
        if burst.worker_id == 0:
            burst.send(1, np.ones(4 << 20, dtype=np.uint8))
        else:
            held = burst.recv(0)
            print("received", len(held), flush=True)
        time.sleep(60)
    return {}
"""


def test_a_killed_launcher_s_segments_are_removed_by_the_next_pack(spawn_action) -> None:
    first, second = spawn_action(HOLD_AND_HANG, count=2)
    pattern = f"{pack.MEMORY_DIR}/{pack.PACK_DIR_PREFIX}{first.pid}-*"
    with tempfile.TemporaryDirectory(dir="/tmp") as uri:
        [line] = pack_lines([{"hang": 1}] * 2, 2, {"backend_type": "Local", "uri": uri}, "k1")
        first.send(line)
        until = time.monotonic() + 30
        while "received" not in first.log_text() and time.monotonic() < until:
            time.sleep(0.05)
        [directory] = glob.glob(pattern)
        assert any(name.endswith(".seg") for name in os.listdir(directory))
        first.proc.kill()  # SIGKILL: its workers die with it and nobody removes the directory
        first.proc.wait(10)
        [line] = pack_lines([{}] * 2, 2, {"backend_type": "Local", "uri": uri}, "k2")
        second.send(line)
        assert [envelope["error"] for envelope in second.answer(timeout=30)] == [None, None]
    assert glob.glob(pattern) == []
