"""Speed figures of the embedded platform on this machine (a script, not a test).

    .venv/bin/python -m bench.platform_speed [SCENARIO ...] [--flags "PLATFORM FLAGS"]

Every scenario starts a fresh ``python -m runner.platform`` (cold containers, as a
user's first run sees them), deploys a Python action built by
``runner.build.build_python_action`` the way the runner deploys it
(``__OW_WAIT_FOR_ACK``), then times from the first invocation sent to the last
result in hand (client clock). Map invocations are sent 64 at a time (the
runner's ``invoke.concurrency``) while 8 pollers fetch the records in order.
``cold`` counts activations with an ``initTime``; start spreads and durations
are of the runs (OpenWhisk's cold records start before their ``initTime`` and
include it in ``duration``; it is reported apart). ``platform_cpu_s`` is the CPU
of the platform and its action processes (``idle`` gives the part spent starting
the platform and deploying), which stays comparable on a busy machine where wall
times do not. Speed goals are checked by reading these figures, never by timed
unit tests: timings on a shared CI machine are noise.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from runner.build import build_python_action

ROOT = Path(__file__).resolve().parents[1]

NOOP_SOURCE = "def main(args, burst=None):\n    return {}\n"
SEND_CONCURRENCY = 64  # the runner's default invoke.concurrency
POLLERS = 8


@dataclass
class Figures:
    """What one scenario measured; ``notes`` are scenario-specific numbers."""

    name: str
    elapsed_s: float
    activations: int
    lost: int
    cold: int
    notes: dict[str, float]


class Bench:
    """One running platform, an HTTP session for it, and a scratch directory."""

    def __init__(self, scratch: Path, flags: list[str]) -> None:
        self.scratch = scratch
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runner.platform", "--port", "0", "--exit-with-stdin", *flags],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        props = dict(self.proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        self.base = f"{props['APIHOST']}/api/v1/namespaces/_"
        token = base64.b64encode(props["AUTH"].encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}
        self.http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Bench:
        connector = aiohttp.TCPConnector(limit=SEND_CONCURRENCY + POLLERS)
        self.http = aiohttp.ClientSession(headers=self.headers, connector=connector)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.http is not None
        await self.http.close()
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(30)

    async def deploy(self, name: str, source: Path) -> None:
        artifact = build_python_action(source, "main", self.scratch / "build")
        body = {
            "exec": {
                "kind": "python:3",
                "code": base64.b64encode(artifact.path.read_bytes()).decode(),
                "binary": True,
            },
            "limits": {"timeout": 60000, "memory": 256},
            "annotations": [{"key": "__OW_WAIT_FOR_ACK", "value": True}],
        }
        assert self.http is not None
        async with self.http.put(f"{self.base}/actions/{name}?overwrite=true", json=body) as r:
            assert r.status == 200, await r.text()

    async def invoke(self, name: str, params: Any, **query: str) -> dict[str, Any]:
        assert self.http is not None
        async with self.http.post(f"{self.base}/actions/{name}", json=params, params=query) as r:
            assert r.status == 202, await r.text()
            return await r.json()

    async def record(self, activation_id: str, deadline: float) -> dict[str, Any] | None:
        """Poll one activation until it exists; None if it never does before ``deadline``."""
        assert self.http is not None
        url = f"{self.base}/activations/{activation_id}"
        while time.monotonic() < deadline:
            async with self.http.get(url) as r:
                if r.status == 200:
                    return await r.json()
            await asyncio.sleep(0.02)
        return None


def notes_of(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record.get("annotations", [])}


def run_start(record: dict[str, Any]) -> int:
    """When the action began its run: a cold record's ``start`` is before its ``initTime``."""
    return record["start"] + notes_of(record).get("initTime", 0)


def run_ms(record: dict[str, Any]) -> int:
    """The run alone: a cold record's ``duration`` includes its ``initTime``."""
    return record["duration"] - notes_of(record).get("initTime", 0)


async def map_run(bench: Bench, name: str, payloads: list[dict[str, Any]]) -> Figures:
    """Send every invocation (64 at a time) while 8 pollers collect results in order."""
    ids: list[asyncio.Future[str]] = [asyncio.get_running_loop().create_future() for _ in payloads]
    deadline = time.monotonic() + 600
    begin = time.perf_counter()

    async def send(indexes: range) -> None:
        for i in indexes:
            ids[i].set_result((await bench.invoke(name, payloads[i]))["activationId"])

    async def collect(indexes: range) -> list[dict[str, Any] | None]:
        return [await bench.record(await ids[i], deadline) for i in indexes]

    count = len(payloads)
    senders = [send(range(k, count, SEND_CONCURRENCY)) for k in range(SEND_CONCURRENCY)]
    pollers = [collect(range(k, count, POLLERS)) for k in range(POLLERS)]
    done = await asyncio.gather(*senders, *pollers)
    elapsed = time.perf_counter() - begin
    records = [r for part in done[SEND_CONCURRENCY:] for r in part if r is not None]
    ok = [r for r in records if r["response"]["success"]]
    inits = [notes_of(r)["initTime"] for r in records if "initTime" in notes_of(r)]
    starts = [run_start(r) for r in records]
    return Figures(
        name,
        elapsed,
        count,
        count - len(ok),
        len(inits),
        {
            "init_median_ms": statistics.median(inits) if inits else 0,
            "start_spread_ms": max(starts) - min(starts) if starts else 0,
            "max_duration_ms": max((run_ms(r) for r in records), default=0),
        },
    )


def _source(bench: Bench, name: str, text: str) -> Path:
    path = bench.scratch / f"{name}.py"
    path.write_text(text)
    return path


async def noop_map(bench: Bench, count: int) -> Figures:
    await bench.deploy("noop", _source(bench, "noop", NOOP_SOURCE))
    figures = await map_run(bench, "noop", [{"worker_id": i} for i in range(count)])
    figures.name = f"map noop x{count}"
    return figures


async def hello_map(bench: Bench) -> Figures:
    await bench.deploy("hello", ROOT / "ow_apps" / "hello" / "action.py")
    payloads = [{"greeting": "hello", "worker_id": i} for i in range(32)]
    figures = await map_run(bench, "hello", payloads)
    figures.name = "map hello x32"
    return figures


async def sleep_map(bench: Bench) -> Figures:
    """Long activations must still run side by side: makespan near 1 s, not 32 s."""
    await bench.deploy("sleep", ROOT / "ow_apps" / "sleep" / "action.py")
    payloads = [{"sleep_ms": 1000, "worker_id": i} for i in range(32)]
    figures = await map_run(bench, "sleep", payloads)
    figures.name = "map sleep 1 s x32"
    return figures


async def hello_burst(bench: Bench) -> Figures:
    """32 hello workers in one pack: invoke to result, and how far apart the workers started."""
    await bench.deploy("hello", ROOT / "ow_apps" / "hello" / "action.py")
    begin = time.perf_counter()
    answer = await bench.invoke("hello", {"value": [{"greeting": "hello"}] * 32}, burst="true")
    records = [await bench.record(i, time.monotonic() + 60) for i in answer["activationIds"]]
    elapsed = time.perf_counter() - begin
    envelopes = [e for r in records if r for e in r["response"]["result"]]
    starts = [e["start_ms"] for e in envelopes]
    lost = 32 - sum(1 for e in envelopes if not e.get("error"))
    first = records[0] or {}
    return Figures(
        "burst hello x32, one pack",
        elapsed,
        len(records),
        lost,
        sum(1 for r in records if r and "initTime" in notes_of(r)),
        {
            "worker_start_spread_ms": max(starts) - min(starts) if starts else 0,
            "init_ms": notes_of(first).get("initTime", 0),
            "duration_ms": run_ms(first) if first else 0,
        },
    )


async def idle(bench: Bench) -> Figures:
    """Start, deploy, stop: the platform's own cost, to subtract from the others' CPU."""
    await bench.deploy("hello", ROOT / "ow_apps" / "hello" / "action.py")
    return Figures("idle (start, deploy, stop)", 0.0, 0, 0, 0, {})


SCENARIOS: dict[str, Callable[[Bench], Awaitable[Figures]]] = {
    "idle": idle,
    "map100": lambda b: noop_map(b, 100),
    "map1000": lambda b: noop_map(b, 1000),
    "map10000": lambda b: noop_map(b, 10000),
    "hello32": hello_map,
    "burst32": hello_burst,
    "sleep32": sleep_map,
}


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


async def run(name: str, flags: list[str]) -> Figures:
    """One scenario on a fresh platform; CPU seconds are counted once the platform exited
    (it reaps its action processes, so theirs are included), the client's separately.
    """
    platform_cpu, client_cpu = _cpu_s(resource.RUSAGE_CHILDREN), _cpu_s(resource.RUSAGE_SELF)
    with tempfile.TemporaryDirectory(prefix="owbench-") as scratch:
        async with Bench(Path(scratch), flags) as bench:
            figures = await SCENARIOS[name](bench)
    figures.notes["platform_cpu_s"] = _cpu_s(resource.RUSAGE_CHILDREN) - platform_cpu
    figures.notes["client_cpu_s"] = _cpu_s(resource.RUSAGE_SELF) - client_cpu
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", help=f"any of {', '.join(SCENARIOS)}; default all")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--flags", default="", help="extra flags of python -m runner.platform")
    args = parser.parse_args()
    flags = shlex.split(args.flags)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    for name in args.scenarios or SCENARIOS:
        for _ in range(args.repeat):
            figures = asyncio.run(run(name, flags))
            extra = "  ".join(f"{k}={v:.3g}" for k, v in figures.notes.items())
            print(
                f"{figures.name:28} {figures.elapsed_s:7.3f} s  activations={figures.activations}"
                f"  lost={figures.lost}  cold={figures.cold}  {extra}",
                flush=True,
            )


if __name__ == "__main__":
    main()
