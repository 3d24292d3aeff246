"""Shared fixtures: the real CLI as a subprocess, and a real Redis server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from runner.burst.catalog import RABBITMQ, REDIS, S3, ServerKind
from runner.platform import servers
from runner.platform.servers import RunningServer

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


def _server(kind: ServerKind) -> Iterator[RunningServer]:
    """A real server on free loopback ports, started the way the embedded platform starts it."""
    problem = servers.missing(kind)
    if problem:
        pytest.fail(f"{problem}: `make test` installs it")
    with servers.started(kind) as running:
        yield running


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RunningServer]:
    """A real redis-server, without persistence."""
    yield from _server(REDIS)


@pytest.fixture(scope="session")
def redis_uri(redis_server: RunningServer) -> str:
    return redis_server.uri


@pytest.fixture(scope="session")
def rabbitmq_server() -> Iterator[RunningServer]:
    """A private rabbitmq-server node (it takes some seconds to start: once per session)."""
    yield from _server(RABBITMQ)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[RunningServer]:
    """moto's S3 server as its own process, with the bucket the S3 backend writes to."""
    yield from _server(S3)


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
