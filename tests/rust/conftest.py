"""Rust burst actions built once per session with the real build step, and bursts of them.

Each pack of a burst is a real `exec` process of the built zip, fed pack lines as the
platform would (tests.helpers.burst), on a real Unix-socket directory or redis-server.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.build.cargo import build_cargo
from runner.build.spec import ActionSpec, Runtime
from runner.config import BuildMethod, Lang
from tests.helpers.burst import ActionProcess, pack_lines

ROOT = Path(__file__).resolve().parents[2]
CRATES = {
    "collectives": ROOT / "ow_apps" / "collectives" / "rust_burst",
    "hello": ROOT / "ow_apps" / "hello" / "rust_burst",
    "probe": ROOT / "tests" / "data" / "rust_probe",
    "pagerank": ROOT / "tests" / "data" / "fork_pagerank" / "ow-pr",
}


def build_rust(crate: Path, cache_dir: Path, into: Path) -> Path:
    """Builds `crate` with app.build=cargo and unpacks the zip into `into`; returns `into`."""
    spec = ActionSpec(lang=Lang.rust, method=BuildMethod.cargo, source=crate,
                      runtime=Runtime(kind="rust:1.34", main="main"))
    into.mkdir(parents=True, exist_ok=True)
    artifact = build_cargo(spec, cache_dir, into / "build.log")
    with zipfile.ZipFile(artifact.path) as archive:
        archive.extractall(into)
    (into / "exec").chmod(0o755)
    return into


@pytest.fixture(scope="session")
def rust_action(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The unpacked action directory of one of `CRATES`, built on first use."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = build_rust(CRATES[name], cache_dir, tmp_path_factory.mktemp(name))
        return built[name]

    return get


@pytest.fixture
def local_dir() -> Iterator[str]:
    """A short directory for Unix sockets (AF_UNIX paths are limited to 107 bytes)."""
    path = tempfile.mkdtemp(prefix="rt-", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


def backend(kind: str, local_dir: str, redis_uri: str) -> dict[str, str]:
    """The pack line's backend_info for `kind` (`local` or `redis`)."""
    if kind == "local":
        return {"backend_type": "Local", "uri": local_dir}
    return {"backend_type": "RedisList", "uri": redis_uri}


class Burst:
    """One process per pack of a burst of `size` workers, reused for several bursts."""

    def __init__(self, directory: Path, size: int, granularity: int) -> None:
        self.size, self.granularity = size, granularity
        self.packs = [ActionProcess(directory) for _ in range(0, size, granularity)]

    def run(self, params: list[Any], backend_info: dict[str, str], burst_id: str,
            timeout_s: float = 30.0, chunk_size: int | None = None) -> list[dict[str, Any]]:
        """Every worker's envelope, in worker order."""
        lines = pack_lines(params, self.granularity, backend_info, burst_id, timeout_s, chunk_size)
        for pack, line in zip(self.packs, lines, strict=True):
            pack.send(line)
        envelopes: list[dict[str, Any]] = []
        for pack in self.packs:
            answer = pack.answer(timeout_s + 10)
            assert isinstance(answer, list), f"a pack answered {answer}"
            envelopes.extend(answer)
        assert [e["worker_id"] for e in envelopes] == list(range(self.size))
        return envelopes

    def close(self) -> None:
        for pack in self.packs:
            pack.close()


@pytest.fixture
def burst_of(rust_action: Callable[[str], Path]) -> Iterator[Callable[[str, int, int], Burst]]:
    """Starts the packs of a burst of one of `CRATES`; all are closed at the end."""
    started: list[Burst] = []

    def start(name: str, size: int, granularity: int) -> Burst:
        burst = Burst(rust_action(name), size, granularity)
        started.append(burst)
        return burst

    yield start
    for burst in started:
        burst.close()
