"""Per-activation limits: the memory rlimit, answer sizes, and their OpenWhisk messages."""

from __future__ import annotations

import re

MIB = 1024 * 1024
MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."
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


def data_limit_kb(memory_mb: int, cpus: int) -> int:
    """RLIMIT_DATA (in KB, as ``ulimit -d`` takes it) for an action of ``memory_mb``."""
    return (memory_mb + PER_CPU_ALLOWANCE_MB * cpus) * 1024


def died_of_memory(logs: list[str]) -> bool:
    """Whether a process that ended without answering said, last, that memory ran out."""
    return any(_ALLOCATION_FAILED.search(line) for line in logs[-_LAST_LINES:])


def oversized_answer(length: int, allowed: int) -> str:
    return (
        "The action produced a response that exceeded the allowed length: "
        f"{length} > {allowed} bytes."
    )


def oversized_request(length: int, allowed: int) -> str:
    return f"Request larger than allowed: {length} > {allowed} bytes."
