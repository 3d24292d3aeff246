"""The embedded platform's process: spawned, its output kept, stopped; possibly started early.

Starting Python and importing the platform is most of its start, so `start`
begins that before the runner has composed its config: the platform waits for
its settings on stdin (`--args-from-stdin`) and `take` sends them. Unused, it
exits as soon as its stdin closes. This module imports nothing heavy, as it
runs before everything else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BASE = ["-m", "runner.platform", "--port", "0", "--exit-with-stdin"]


class _Log:
    """The platform's output, appended to the platform.log of the run it currently serves.

    Lines written before any run is known (a platform started early) wait in memory.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._early: list[bytes] = []

    def switch(self, path: Path) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = path.open("ab")
            self._file.write(b"".join(self._early))
            self._file.flush()
            self._early.clear()

    def write(self, data: bytes) -> None:
        with self._lock:
            if self._file is None:
                self._early.append(data)
            elif not self._file.closed:
                self._file.write(data)
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()

    def drain(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.write(line)


STOP_TIMEOUT_S = 10.0  # a platform still running this long after SIGTERM is killed


@dataclass
class PlatformProcess:
    process: subprocess.Popen
    log: _Log
    api_host: str = ""
    auth: str = ""
    served: int = field(default=0)

    def stop(self) -> None:
        """SIGTERM lets the platform kill its action processes; SIGKILL if it does not obey.

        The wait blocks until the platform ends (a wait with a timeout polls, up to
        50 ms late); a timer sends the SIGKILL if it takes longer than STOP_TIMEOUT_S.
        """
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            overdue = threading.Timer(STOP_TIMEOUT_S, self._kill)
            overdue.start()
            self.process.wait()
            overdue.cancel()
        self.log.close()

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


_waiting: list[PlatformProcess] = []  # started ahead, waiting for its settings


def spawn(extra: list[str]) -> PlatformProcess:
    """`python -m runner.platform` in its own session (Ctrl-C reaches the runner only)."""
    log = _Log()
    process = subprocess.Popen([sys.executable, *BASE, *extra], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    log.write(f"platform pid {process.pid}\n".encode())
    assert process.stderr is not None
    threading.Thread(target=log.drain, args=(process.stderr,), daemon=True).start()
    return PlatformProcess(process, log)


def start() -> None:
    """Starts a platform's interpreter now; the next run needing one gives it its settings."""
    if not _waiting:
        _waiting.append(spawn(["--args-from-stdin"]))


def take(settings: list[str]) -> PlatformProcess | None:
    """The platform started early, now given its settings; None when there is none (alive)."""
    platform = _waiting.pop() if _waiting else None
    if platform is None or platform.process.poll() is not None:
        return None
    assert platform.process.stdin is not None
    platform.process.stdin.write(json.dumps(settings).encode() + b"\n")
    platform.process.stdin.flush()
    return platform


def stop() -> None:
    """Ends a platform started early that no run took."""
    while _waiting:
        _waiting.pop().stop()
