"""terasort action. Map mode runs one of two stages: a mapper writes one intermediate
file per reducer; a reducer (`role: reducer` in its payload) sorts what all mappers
wrote for it. Burst mode does both in one go with an all_to_all shuffle.

Phase times mean the same in both modes: `comm_ms` is the shuffle (intermediate
files in map mode, messages in burst mode), `read_ms` the input, `write_ms` the output.
"""

from pathlib import Path
from typing import Any

import numpy as np
import storage
from phases import Clock
from teraformat import (
    RECORD,
    RECORD_BYTES,
    decode_boundaries,
    group_by_destination,
    part_path,
    shuffle_path,
    sort_by_key,
)


def _read_slice(args: dict) -> np.ndarray:
    """This worker's records only: one ranged read of the input."""
    data = storage.read_range(storage.join(args["storage"], args["input"]),
                              args["first"] * RECORD_BYTES, args["count"] * RECORD_BYTES)
    return np.frombuffer(data, dtype=RECORD)


def _read(args: dict, name: Path) -> np.ndarray:
    return np.frombuffer(storage.read(storage.join(args["storage"], name)), dtype=RECORD)


def _write(args: dict, name: Path, records: np.ndarray) -> None:
    storage.write(storage.join(args["storage"], name), records.data)


def _map(args: dict, clock: Clock) -> dict:
    records = _read_slice(args)
    clock.lap("read_ms")
    groups = group_by_destination(records, decode_boundaries(args["boundaries"]))
    clock.lap("compute_ms")
    for reducer, group in enumerate(groups):
        _write(args, shuffle_path(args["scratch"], args["worker_id"], reducer), group)
    clock.lap("comm_ms")
    return {"worker_id": args["worker_id"], "records": len(records), **clock.ms}


def _reduce(args: dict, clock: Clock) -> dict:
    reducer = args["worker_id"]
    received = [_read(args, shuffle_path(args["scratch"], mapper, reducer))
                for mapper in range(args["mappers"])]
    clock.lap("comm_ms")
    output = sort_by_key(np.concatenate(received))
    clock.lap("compute_ms")
    _write(args, part_path(args["scratch"], reducer), output)
    clock.lap("write_ms")
    return {"worker_id": reducer, "records": len(output), **clock.ms}


def _burst(args: dict, burst: Any, clock: Clock) -> dict:
    records = _read_slice(args)
    clock.lap("read_ms")
    groups = group_by_destination(records, decode_boundaries(args["boundaries"]))
    clock.lap("compute_ms")
    received = burst.all_to_all([group.view(np.uint8) for group in groups])
    clock.lap("comm_ms")
    output = sort_by_key(np.concatenate([np.frombuffer(chunk, dtype=RECORD) for chunk in received]))
    clock.lap("compute_ms")
    _write(args, part_path(args["scratch"], burst.worker_id), output)
    clock.lap("write_ms")
    return {"worker_id": burst.worker_id, "records": len(output), **clock.ms}


def main(args: dict, burst: Any = None) -> dict:
    clock = Clock()
    if burst is not None:
        return _burst(args, burst, clock)
    return _reduce(args, clock) if args.get("role") == "reducer" else _map(args, clock)
