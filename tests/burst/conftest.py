"""Fixtures for the burst middleware tests: action directories and a real Redis server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# Test modules import the shared helpers by name from this directory.
sys.path.insert(0, str(Path(__file__).parent))

from burst_helpers import ActionProcess, build_action  # noqa: E402


@pytest.fixture
def spawn_action(tmp_path: Path) -> Iterator:
    """Build an action from source and start ``exec`` processes on it; all are closed at the end."""
    started: list[ActionProcess] = []

    def spawn(source: str, count: int = 1, env: dict[str, str] | None = None):
        directory = build_action(tmp_path / "action", source)
        procs = [ActionProcess(directory, env) for _ in range(count)]
        started.extend(procs)
        return procs

    yield spawn
    for proc in started:
        proc.close()


@pytest.fixture
def local_uri() -> Iterator[str]:
    """A short directory for Unix sockets (AF_UNIX paths are limited to 107 bytes)."""
    path = tempfile.mkdtemp(prefix="bt-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_uri() -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not installed (apt-get install redis-server)")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)
