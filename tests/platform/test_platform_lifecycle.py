"""Shutdown: SIGTERM while actions run leaves no process and no workdir behind."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any


def test_sigterm_kills_every_action_process(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory()
    assert server.put("hang").status_code == 200
    assert server.put("idle").status_code == 200
    warm = server.invoke("idle", {}, blocking="true").json()["response"]["result"]["pid"]
    pidfile = server.workdir.parent / "pids"
    server.invoke("hang", {"sleep": 60, "pidfile": str(pidfile), "spawn": True})
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and len(pidfile.read_text().split()) == 2):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pids = [warm, *(int(p) for p in pidfile.read_text().split())]
    assert all(server.alive(pid) for pid in pids)
    assert server.workdir.exists()

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(10) == 0
    deadline = time.monotonic() + 3
    while any(server.alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(server.alive(pid) for pid in pids)
    assert not server.workdir.exists()
