"""Per-activation limits: container memory, answer sizes, and their OpenWhisk messages.

Memory is limited by a cgroup per container when the machine allows it
(``cgroups.py``), else by RLIMIT_DATA on each process, with a heuristic on the
logs to tell a death for lack of memory.
"""

from __future__ import annotations

import re
import signal
from dataclasses import dataclass
from typing import Any

MIB = 1024 * 1024
MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."
# OpenWhisk's status of an action at fault (time limit, memory, a bad answer); a pack's
# entry for a worker that failed so carries it, so a worker reads the same in either mode.
DEVELOPER_ERROR_STATUS = "action developer error"
# RLIMIT_DATA counts heap, anonymous mappings and thread stacks, but not code or
# mapped files, so a limit at ``limits.memory`` behaves like a container's memory
# limit for the action's own data. Native libraries reserve per-thread buffers
# (OpenBLAS: ~40 MB per CPU, so ``import numpy`` alone needs ~90 MB here); this
# allowance per CPU keeps such imports working at 128 MB on any machine.
PER_CPU_ALLOWANCE_MB = 64
# How a process reports a failed allocation on its way out, in the usual runtimes.
_ALLOCATION_FAILED = re.compile(
    r"MemoryError|Cannot allocate memory|out of memory|memory allocation of \d+ bytes failed"
    r"|bad_alloc",
    re.IGNORECASE,
)
_LAST_LINES = 20
# How the burst pack launcher (runner/burst/pack.py) reports a worker that died of
# SIGKILL, the OOM killer's signal: "worker 3 died (signal 9, SIGKILL)".


@dataclass(frozen=True)
class MemoryLimit:
    """How one container's memory is limited: its cgroup's size, or each process's RLIMIT_DATA."""

    cgroup_bytes: int | None = None
    data_limit_kb: int | None = None


def container_memory(memory_mb: int, workers: int, cgroup: bool, cpus: int) -> MemoryLimit:
    """The limit of a container running ``workers`` workers of an action of ``memory_mb``.

    A cgroup holds the whole container, so a pack of G workers gets G times the
    action's memory, as a burst pack container does. RLIMIT_DATA applies to each
    process alone (each forked worker gets its own), so it does not grow with G.
    """
    if cgroup:
        return MemoryLimit(cgroup_bytes=memory_mb * workers * MIB)
    return MemoryLimit(data_limit_kb=data_limit_kb(memory_mb, cpus))


def data_limit_kb(memory_mb: int, cpus: int) -> int:
    """RLIMIT_DATA (in KB, as ``ulimit -d`` takes it) for an action of ``memory_mb``."""
    return (memory_mb + PER_CPU_ALLOWANCE_MB * cpus) * 1024


def died_of_memory(logs: list[str]) -> bool:
    """Whether a process that ended without answering said, last, that memory ran out."""
    return any(_ALLOCATION_FAILED.search(line) for line in logs[-_LAST_LINES:])


def blame_memory(entries: list[Any], oom_kills: int) -> list[Any]:
    """A pack's answer, its workers that the OOM killer ended saying so as OpenWhisk would.

    The pack launcher outlives a worker killed by the OOM killer and reports it as
    killed by SIGKILL; the container's cgroup counted ``oom_kills`` kills during the
    activation. When no more workers died of SIGKILL (the envelope's ``signal``)
    than were OOM-killed, each of them was; when more did (one also killed itself,
    say), which ones cannot be told apart and their entries stay as they are.
    """
    killed = [
        index
        for index, entry in enumerate(entries)
        if isinstance(entry, dict) and entry.get("signal") == signal.SIGKILL
    ]
    if not killed or len(killed) > oom_kills:
        return entries
    blamed = list(entries)
    for index in killed:
        blamed[index] = {**entries[index], "error": MEMORY_EXHAUSTED,
                         "status": DEVELOPER_ERROR_STATUS}
    return blamed


def time_limit_exceeded(timeout_ms: int) -> str:
    return f"The action exceeded its time limits of {timeout_ms} milliseconds."


def blame_limits(entries: list[Any], timeout_ms: int) -> list[Any]:
    """A pack's answer, its workers that hit a limit reported as a map activation would be.

    The pack launcher kills a worker still running at the deadline and marks its
    entry ``timed_out``; a worker whose allocation failed (RLIMIT_DATA) reports
    its ``MemoryError``. Each then gets OpenWhisk's message and status.
    """
    blamed = []
    for entry in entries:
        error = entry.get("error") if isinstance(entry, dict) else None
        if isinstance(error, str) and entry.get("timed_out"):
            entry = {**entry, "error": time_limit_exceeded(timeout_ms),
                     "status": DEVELOPER_ERROR_STATUS}
        elif isinstance(error, str) and error.startswith("MemoryError"):
            entry = {**entry, "error": MEMORY_EXHAUSTED, "status": DEVELOPER_ERROR_STATUS}
        blamed.append(entry)
    return blamed


def oversized_answer(length: int, allowed: int) -> str:
    return (
        "The action produced a response that exceeded the allowed length: "
        f"{length} > {allowed} bytes."
    )


def oversized_request(length: int, allowed: int) -> str:
    return f"Request larger than allowed: {length} > {allowed} bytes."
