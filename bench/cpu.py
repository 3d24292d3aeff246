"""CPU seconds spent by the client, the platform and the action processes, from /proc.

On a 2-core machine a throughput figure means little without knowing who used
the cores: this tells whether the client, the platform's server or the actions
were the limit. Processes that exit during a measurement are not counted.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    client: float
    platform: float
    actions: float

    def __sub__(self, other: CpuTimes) -> CpuTimes:
        return CpuTimes(self.client - other.client, self.platform - other.platform,
                        self.actions - other.actions)


def _cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime + stime


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            pids += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return pids


def _descendants(pid: int) -> list[int]:
    found = []
    stack = _children(pid)
    while stack:
        child = stack.pop()
        found.append(child)
        stack += _children(child)
    return found


def platform_pid() -> int:
    """The embedded platform this process started (`python -m runner.platform`)."""
    for pid in _children(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:
            continue
        if b"runner.platform" in command:
            return pid
    raise LookupError("no embedded platform among this process's children")


def sample(platform: int) -> CpuTimes:
    return CpuTimes(time.process_time(), _cpu_s(platform),
                    sum(_cpu_s(pid) for pid in _descendants(platform)))
