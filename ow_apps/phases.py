"""Where a worker's time went: read, compute, comm and write milliseconds.

Shipped inside the zips of the data apps (listed in their `include:`), so it
imports nothing from the project.
"""

from __future__ import annotations

import time


class Clock:
    """Accumulates milliseconds per phase; `lap` charges the time since the last lap."""

    def __init__(self) -> None:
        self.ms = {"read_ms": 0.0, "compute_ms": 0.0, "comm_ms": 0.0, "write_ms": 0.0}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.ms[phase] += (now - self._last) * 1000
        self._last = now
