"""When to cold-start another container for activations that wait for one.

A cold start of a Python action costs ~45 ms of CPU (interpreter, imports). On
a laptop, starting one process per queued no-op activation spends far more CPU
on starts than on the activations themselves: 32 no-op invocations ran through
11 cold starts and took ~0.5 s, though two warm processes would have served
them all in a few milliseconds. So a waiting activation does not get a start of
its own; it takes whichever container frees up first, and a start is only
worth it when the wait for a busy container is expected to be longer than the
start itself. Long activations (``sleep 1 s`` x 32) still all run side by
side: their expected wait exceeds a start within one start time.
"""

from __future__ import annotations

from dataclasses import dataclass

# Expected start time before a start of this action was ever measured.
DEFAULT_INIT_MS = 100.0
# Weight of the newest sample in the running averages.
_SMOOTHING = 0.3


def recheck_after_s(init_ms: float | None) -> float:
    """When to look again after declining a start: elapsed times will have grown by then."""
    init = init_ms if init_ms is not None else DEFAULT_INIT_MS
    return min(max(init / 2, 10.0), 500.0) / 1000


def smoothed(previous: float | None, sample: float) -> float:
    """Exponentially weighted average: follows changes without jumping on one outlier."""
    return sample if previous is None else previous + _SMOOTHING * (sample - previous)


@dataclass(frozen=True)
class Demand:
    """One action's containers on one invoker, as the start decision sees them."""

    waiting: int  # activations holding a worker slot, waiting for a container
    starting: int  # containers being started
    ready: int  # containers started (busy or idle)
    longest_busy_ms: float  # how long the longest running activation has run so far
    run_ms: float | None  # average duration of its activations, None before the first
    init_ms: float | None  # average cold-start time, None before the first
    gang: bool  # burst packs: every pack needs a container of its own at once


def wants_start(demand: Demand, cpus: int) -> bool:
    """Whether one more container should start now.

    - Nothing to wait for (no container yet, or burst packs, which must all run at
      once): start.
    - Short activations (they take less than a start) are CPU-bound here: more
      processes than CPUs would only add cold starts competing for the same cores.
    - Otherwise start when the queue ahead, shared by the ready containers, would
      take longer to drain than a start. An activation that has run for t so far is
      expected to take 2t in all, so long activations are recognised half a start
      time after they began, long before the first one ends.
    """
    backlog = demand.waiting - demand.starting
    if backlog <= 0:
        return False
    if demand.gang or demand.ready == 0:
        return True
    init = demand.init_ms if demand.init_ms is not None else DEFAULT_INIT_MS
    run = max(demand.run_ms or 0.0, 2 * demand.longest_busy_ms)
    if run < init and demand.ready + demand.starting >= cpus:
        return False
    return backlog * run / demand.ready > init
