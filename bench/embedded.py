"""The embedded platform, started once per benchmark with one action deployed.

In-process benchmarks measure the invoke and wait path alone, so they start the
platform and deploy the action themselves (as `runner.pipeline.experiment` does) and
then call the runner's own `Executor` many times against the warm platform.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from runner import build
from runner.client import connect
from runner.client.openwhisk import BurstOptions, OpenWhiskClient
from runner.client.polling import PAGE
from runner.config import WaitConfig
from runner.pipeline import experiment
from runner.pipeline.executor import Executor
from runner.rundir.recorder import Recorder

from .common import BenchError
from .composed import runner_config

NOOP_ACTION = Path(__file__).parent / "actions" / "noop.py"
WAIT_TIMEOUT_S = 600.0
MEMORY_MB = 256
ACTION_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Platform:
    client: OpenWhiskClient
    action: str
    concurrency: int  # parallel invocations, as `invoke.concurrency` gives the runner


@dataclass(frozen=True)
class MapRun:
    elapsed_s: float  # the whole `Executor.map` call: first invoke to every result in hand
    activations: pd.DataFrame  # the run's activations.csv
    requests: int  # HTTP requests the client sent, invocations included


@contextmanager
def started(scratch: Path, source: Path, action: str) -> Iterator[Platform]:
    """The platform of a default run, on a random loopback port, with `source` deployed as
    `action`; its log goes to `scratch`/platform.log."""
    cfg = runner_config()
    artifact = build.build_python_action(source, "main", scratch / "build")
    with connect.from_config(cfg, scratch) as connection:
        experiment._deploy(connection.client, action, artifact, MEMORY_MB, ACTION_TIMEOUT_MS)
        yield Platform(connection.client, action, cfg.invoke.concurrency)


def map_run(platform: Platform, payloads: list[dict[str, Any]], run_dir: Path,
            poll_rate: float = WaitConfig.poll_rate) -> MapRun:
    """One map stage exactly as the runner executes it, recorded into `run_dir`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    recorder = Recorder(run_dir)
    executor = Executor(platform.client, platform.action, recorder, platform.concurrency,
                        WAIT_TIMEOUT_S, "map", BurstOptions(), poll_rate=poll_rate)
    before = platform.client.requests_sent
    started_at = time.perf_counter()
    try:
        outcomes = executor.map(payloads)
    finally:
        recorder.close()
    elapsed = time.perf_counter() - started_at
    failed = [outcome for outcome in outcomes if not outcome.ok]
    if failed:
        raise BenchError(f"{len(failed)} of {len(payloads)} activations failed, e.g. "
                         f"{failed[0].error} (see {run_dir})")
    return MapRun(elapsed, pd.read_csv(run_dir / "activations.csv"),
                  platform.client.requests_sent - before)


def settle(platform: Platform, ids: list[str], since_ms: int) -> None:
    """Waits until every activation in `ids` has finished, so that the next measurement
    starts on an idle platform instead of sharing the CPU with this one's leftovers."""
    pending = set(ids)
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    while pending:
        skip = 0
        while True:
            page = platform.client.list_activations(
                name=platform.action, since=since_ms, limit=PAGE, skip=skip, docs=False
            )
            pending.difference_update(record.get("activationId") for record in page)
            if len(page) < PAGE:
                break
            skip += PAGE
        if pending and time.monotonic() > deadline:
            raise BenchError(f"{len(pending)} activations still unfinished after "
                             f"{WAIT_TIMEOUT_S:.0f} s")
        if pending:
            time.sleep(0.1)
