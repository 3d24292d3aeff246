"""Benchmark: the Rust middleware beside the Python one, a 64 MiB message between two workers.

Both run the `collectives` app's `broadcast` op with two workers (worker 0 sends one
message to worker 1, timed from a barrier to the last byte received, median over rounds)
through the real command line and embedded platform, in three places: pack-mates (one
pack), two packs on the Local backend, two packs on RedisList with 1 MiB chunks. A
`memcpy` of the same size (NumPy `copyto` into a buffer already touched) is measured in the
same run, for the Local target.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .common import PROJECT, BenchError, Context, Outcome, Target
from .middleware import redis_server

NAME = "rust_middleware"
MIB = 1 << 20
PAYLOAD_MIB = 64
PAPER_REDIS_MIB_S = 269.0


@dataclass(frozen=True)
class Place:
    label: str
    overrides: tuple[str, ...]


def _places(redis_uri: str) -> list[Place]:
    return [
        Place("pack-mates", ("burst.granularity=2",)),
        Place("Local, 2 packs", ("burst.granularity=1", "burst.backend=local")),
        Place("RedisList 1 MiB chunks, 2 packs",
              ("burst.granularity=1", "burst.backend=redis", f"burst.backend_uri={redis_uri}",
               "burst.chunk_size=1024")),
    ]


def _message_ms(ctx: Context, lang: str, place: Place, reps: int) -> float:
    """The receiver's median time of one 64 MiB message, from a real run's workers.csv."""
    run_dir = ctx.scratch(NAME) / f"{lang}-{place.label.replace(' ', '_').replace(',', '')}"
    command = [sys.executable, "-m", "runner", "mode=burst", "workers=2", "app=collectives",
               f"app.lang={lang}", "app.op=broadcast", f"app.payload_kb={PAYLOAD_MIB * 1024}",
               f"app.repetitions={reps}", "app.warmup=1", "app.memory=2048",
               *place.overrides, f"hydra.run.dir={run_dir}"]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{lang} {place.label}: {done.stderr.strip().splitlines()[-1:]}")
    return float(pd.read_csv(run_dir / "workers.csv")["op_ms_median"].max())


def _memcpy_ms(reps: int) -> float:
    source = np.ones(PAYLOAD_MIB * MIB, dtype=np.uint8)
    target = np.zeros_like(source)
    times = []
    for _ in range(max(reps, 5)):
        started = time.perf_counter()
        np.copyto(target, source)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def run(ctx: Context) -> Outcome:
    reps = ctx.repetitions(short=5)
    rows = []
    with redis_server() as redis_uri:
        for place in _places(redis_uri):
            for lang in ("rust", "python"):
                ms = _message_ms(ctx, lang, place, reps)
                rows.append({"place": place.label, "middleware": lang, "message_ms": ms,
                             "mib_s": PAYLOAD_MIB / (ms / 1000) if ms > 0 else float("inf")})
    memcpy_ms = _memcpy_ms(reps)
    table = pd.DataFrame(rows)
    table.to_csv(ctx.out_dir / f"{NAME}.csv", index=False)
    ms = {(row["place"], row["middleware"]): row["message_ms"] for row in rows}
    mates = ms[("pack-mates", "python")] / max(ms[("pack-mates", "rust")], 1e-6)
    local = memcpy_ms / ms[("Local, 2 packs", "rust")]
    redis_mib_s = PAYLOAD_MIB / (ms[("RedisList 1 MiB chunks, 2 packs", "rust")] / 1000)
    targets = [
        Target("64 MiB between pack-mates: Rust >= 10x faster than Python's pack-local path",
               f"{mates:.0f}x", mates >= 10),
        Target("64 MiB between packs on Local: Rust >= 0.4x a memcpy",
               f"{local:.2f}x (memcpy {memcpy_ms:.1f} ms)", local >= 0.4),
        Target(f"RedisList, 1 MiB chunks: Rust >= {PAPER_REDIS_MIB_S:.0f} MiB/s (paper)",
               f"{redis_mib_s:.0f} MiB/s", redis_mib_s >= PAPER_REDIS_MIB_S),
    ]
    notes = [f"memcpy of {PAYLOAD_MIB} MiB: {memcpy_ms:.1f} ms (median of {max(reps, 5)})",
             "message_ms: the receiver's median over rounds, barrier to last byte"]
    title = f"Rust vs Python middleware, one {PAYLOAD_MIB} MiB message"
    return Outcome(NAME, title, table, targets, notes)
