"""Shared fixtures: the real CLI as a subprocess, and a real Redis server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

PROJECT = Path(__file__).resolve().parent.parent


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path

    def csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.run_dir / name)

    @property
    def summary(self) -> dict:
        return self.csv("summary.csv").iloc[0].to_dict()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("build-cache")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def run_cli(tmp_path: Path, cache_dir: Path, data_dir: Path):
    """Runs `python -m runner` with the given overrides in a fresh run directory."""
    counter = iter(range(1000))

    def run(*overrides: str, timeout: float = 120, build_cache: Path | None = None) -> CliRun:
        run_dir = tmp_path / f"run{next(counter)}"
        completed = subprocess.run(
            [sys.executable, "-m", "runner", *overrides, f"hydra.run.dir={run_dir}",
             f"build.cache_dir={build_cache or cache_dir}", f"data_dir={data_dir}"],
            cwd=PROJECT, capture_output=True, text=True, timeout=timeout,
        )
        return CliRun(completed.returncode, completed.stdout, completed.stderr, run_dir)

    return run


@pytest.fixture(scope="session")
def redis_uri() -> Iterator[str]:
    """A real redis-server on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: `make test` installs it "
                    "(or apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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


@pytest.fixture
def standalone_platform() -> Iterator[dict[str, str]]:
    """A platform the runner does not own, as a cluster would be: its APIHOST and AUTH."""
    process = subprocess.Popen(
        [sys.executable, "-m", "runner.platform", "--port", "0", "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=PROJECT,
    )
    props = dict(process.stdout.readline().decode().strip().split("=", 1) for _ in range(2))
    yield props
    process.stdin.close()
    process.wait(timeout=30)
