"""An action that tells the test when it runs, so tests wait on that instead of a fixed sleep."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

# the sleep app's action, touching <markers>/<worker id> as it starts (map or burst)
MARKED_SLEEP = """
import pathlib
import time


def main(args, burst=None):
    worker_id = burst.worker_id if burst is not None else args["worker_id"]
    pathlib.Path({markers!r}, str(worker_id)).touch()
    time.sleep(args["sleep_ms"] / 1000)
    return {{"slept_ms": args["sleep_ms"]}}
"""


def marked_sleep(folder: Path) -> tuple[Path, Path]:
    """(the action file, the folder its workers mark) for `app=sleep app.action=...`."""
    markers = folder / "running"
    markers.mkdir()
    action = folder / "sleep_marked.py"
    action.write_text(MARKED_SLEEP.format(markers=str(markers)))
    return action, markers


def wait_running(markers: Path, workers: int, runner: subprocess.Popen,
                 timeout_s: float = 120) -> None:
    """Returns once `workers` workers run; fails if the runner ends first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while len(list(markers.iterdir())) < workers:
        assert runner.poll() is None, runner.communicate()
        assert time.monotonic() < deadline, f"{workers} workers not running after {timeout_s} s"
        time.sleep(0.05)


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = 60) -> None:
    """Returns once `condition()` is true; fails naming `what` when time runs out."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def processes_with(marker: bytes) -> list[int]:
    """Processes (other than this one) whose environment holds `marker`: a run's leftovers."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found
