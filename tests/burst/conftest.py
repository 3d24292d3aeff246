"""Fixtures for the burst middleware tests: action directories and every backend (servers:
tests/conftest.py)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.backends import (
    REMOTE_TYPES,
    SERVER_FIXTURE,
    BackendCase,
    local_case,
    remote_case,
)
from tests.helpers.burst import ActionProcess, build_action


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


@pytest.fixture(scope="session", params=["Local", *REMOTE_TYPES])
def backend_case(request: pytest.FixtureRequest) -> BackendCase:
    """Each inter-pack backend in turn, its server started once per session."""
    if request.param == "Local":
        return local_case()
    return remote_case(request.param, request.getfixturevalue(SERVER_FIXTURE[request.param]))
