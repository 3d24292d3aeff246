"""Packs that pay off: shared memory between pack-mates, all_to_all by granularity, and the pair
throughput of every backend by chunk size (the paper's Fig. 9a), each side by side in one run.

Bursts run as ``bench/middleware.py`` runs them (one forked pack runner per pack,
one forked process per worker, no platform), so only the middleware is timed. The
servers of the remote backends are started through ``runner/platform/servers.py``,
as the embedded platform starts them.

- ``shared``: one message from worker 0 to worker 1 of one pack, shared memory
  against the socket path, by size (where the threshold ``pack.SEGMENTS_FROM``
  comes from), next to a ``memcpy`` of the same size into memory already
  touched (``numpy.copyto``) and into fresh memory (``bytearray``), measured in
  this process in the same run.
- ``all_to_all``: 16 workers, 4 MiB per destination, Local backend, g = 1..16.
- ``pair``: one pair in two packs, one payload per (backend, chunk size),
  throughput = payload / (receiver end - sender start), beside the paper's.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
from unittest import mock

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from runner.burst import catalog, pack
from runner.platform import servers

from .common import Context, Outcome, Target, interleaved, save
from .middleware import KIB, MIB, Setup, measure

NAME = "packs"
SHARED_SIZES = (64 * KIB, 256 * KIB, MIB, 4 * MIB, 16 * MIB, 64 * MIB)
A2A_WORKERS, A2A_MESSAGE = 16, 4 * MIB
GRANULARITIES = (1, 2, 4, 8, 16)
CHUNKS_KB = (64, 1024, 16384, 65536)
PAIR_BACKENDS = ("local", "redis_list", "redis_stream", "rabbitmq", "s3")
# Fig. 9a of the paper (MiB/s at 64 KiB / 1 MiB / 64 MiB chunks; no 16 MiB point there).
PAPER = {
    "redis_list": {64: 80, 1024: 269, 65536: 156},
    "redis_stream": {64: 85, 1024: 243, 65536: 256},
    "rabbitmq": {64: 85, 1024: 368, 65536: 366},
    "s3": {65536: 142},
}
# The paper measured S3 from 64 MiB chunks only: thousands of small objects say nothing new.
S3_SMALLEST_CHUNK_KB = 16384


def memcpy_ms(size: int, reps: int) -> tuple[float, float]:
    """Median milliseconds to copy ``size`` bytes into touched memory, and into fresh memory."""
    source = np.ones(size, dtype=np.uint8)
    target = np.zeros(size, dtype=np.uint8)
    warm, fresh = [], []
    for _ in range(reps):
        began = time.perf_counter()
        np.copyto(target, source)
        warm.append(time.perf_counter() - began)
        began = time.perf_counter()
        copy = bytearray(memoryview(source))
        fresh.append(time.perf_counter() - began)
        del copy
    return statistics.median(warm) * 1000, statistics.median(fresh) * 1000


def shared(ctx: Context, scratch: str) -> tuple[pd.DataFrame, list[Target]]:
    plan = [("pair", size, max(ctx.repetitions(3) * 3, 5)) for size in SHARED_SIZES]
    rows = []
    for label, threshold in (("socket", None), ("shared memory", 1)):
        with mock.patch.object(pack, "SEGMENTS_FROM", threshold):
            for row in measure(Setup("local", 2, 2), plan, tempfile.mkdtemp(dir=scratch)):
                rows.append({"path": label, "size": row["size_bytes"],
                             "ms": row["time_ms_median"], "MiB/s": row["throughput_mib_s"]})
    table = pd.DataFrame(rows).pivot_table(index="size", columns="path", values="ms",
                                           sort=False).reset_index()
    copies = [memcpy_ms(size, 7) for size in table["size"]]
    table["memcpy touched ms"] = [warm for warm, _ in copies]
    table["memcpy fresh ms"] = [fresh for _, fresh in copies]
    table["shared / memcpy touched"] = table["memcpy touched ms"] / table["shared memory"]
    big = table[table["size"] == 64 * MIB].iloc[0]
    crossover = table[table["shared memory"] < table["socket"]]["size"]
    targets = [
        Target("pair of 64 MiB between pack-mates >= 0.6x a memcpy (touched memory)",
               f"{big['shared / memcpy touched']:.2f}x ({big['shared memory']:.1f} ms vs "
               f"{big['memcpy touched ms']:.1f} ms; socket {big['socket']:.1f} ms)",
               bool(big["shared / memcpy touched"] >= 0.6)),
        Target(f"threshold pack.SEGMENTS_FROM = {pack.SEGMENTS_FROM // KIB} KiB: shared memory "
               "is faster from there on",
               "faster from " + (f"{int(crossover.min()) // KIB} KiB" if len(crossover) else
                                 "no size measured"),
               bool(len(crossover)) and all(
                   row["shared memory"] <= row["socket"] * 1.1
                   for _, row in table.iterrows() if row["size"] >= pack.SEGMENTS_FROM)),
    ]
    table.insert(0, "size KiB", table.pop("size") // KIB)
    return table, targets


def all_to_all(ctx: Context, scratch: str) -> tuple[pd.DataFrame, list[Target]]:
    """One burst per (repetition, granularity), interleaved, so a busy minute hits all alike."""
    total = A2A_WORKERS * A2A_MESSAGE  # each worker's share of the exchange
    samples = []
    # 9 by default: on a shared machine single bursts vary by 2-3x; --reps overrides.
    for _, granularity in interleaved(ctx.reps or 9, GRANULARITIES):
        [row] = measure(Setup("local", A2A_WORKERS, granularity), [("all_to_all", total, 1)],
                        tempfile.mkdtemp(dir=scratch))
        samples.append({"granularity": granularity, "ms": row["time_ms_median"]})
    grouped = pd.DataFrame(samples).groupby("granularity")["ms"]
    rows = [{"granularity": g, "ms": grouped.median()[g], "min ms": grouped.min()[g],
             "max ms": grouped.max()[g], "runs": grouped.size()[g]} for g in GRANULARITIES]
    table = pd.DataFrame(rows)
    speedup = table["ms"].iloc[0] / table["ms"].iloc[-1]
    steps = list(table["ms"])
    monotone = all(later <= earlier for earlier, later in zip(steps, steps[1:], strict=False))
    table["speed-up vs g=1"] = table["ms"].iloc[0] / table["ms"]
    targets = [
        Target("all_to_all 16 x 4 MiB, local: g=16 >= 3x faster than g=1",
               f"{speedup:.2f}x ({steps[0]:.0f} ms -> {steps[-1]:.0f} ms)", bool(speedup >= 3)),
        Target("each granularity step no slower than the previous one",
               " > ".join(f"{ms:.0f}" for ms in steps) + " ms", monotone),
    ]
    return table, targets


def pair_by_chunk(ctx: Context, scratch: str) -> pd.DataFrame:
    payload = (1024 if ctx.full else 256) * MIB
    plan = [("pair", payload, ctx.repetitions(1))]
    rows = []
    with contextlib.ExitStack() as stack:
        uris: dict[str, str] = {}
        for backend in PAIR_BACKENDS:
            server = catalog.BACKENDS[backend].server
            if server is not None and server.name not in uris:
                uris[server.name] = stack.enter_context(servers.started(server)).uri
        for backend in PAIR_BACKENDS:
            server = catalog.BACKENDS[backend].server
            chunks: tuple[int | None, ...] = (None,) if server is None else CHUNKS_KB
            for chunk_kb in chunks:
                if backend == "s3" and chunk_kb is not None and chunk_kb < S3_SMALLEST_CHUNK_KB:
                    continue
                uri = tempfile.mkdtemp(dir=scratch) if server is None else uris[server.name]
                [row] = measure(Setup(backend, 2, 1, chunk_kb), plan, uri)
                paper = PAPER.get(backend, {}).get(chunk_kb or 0)
                rows.append({"backend": backend, "chunk KiB": chunk_kb or "-",
                             "MiB/s here": row["throughput_mib_s"],
                             "MiB/s paper": paper if paper is not None else "-"})
    table = pd.DataFrame(rows)
    table.attrs["payload"] = payload
    return table


def plot(shared_table: pd.DataFrame, a2a: pd.DataFrame, pairs: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(15, 4))
    left, middle, right = figure.subplots(1, 3)
    sizes = shared_table["size KiB"] * KIB
    for column in ("socket", "shared memory", "memcpy touched ms"):
        left.plot(sizes, sizes / MIB / (shared_table[column] / 1000), marker="o", label=column)
    left.set(xscale="log", yscale="log", xlabel="message (bytes)", ylabel="MiB/s",
             title="one message between pack-mates")
    left.legend(fontsize="small")
    middle.plot(a2a["granularity"], a2a["ms"], marker="o")
    middle.set(xscale="log", xlabel="granularity", ylabel="ms (median)",
               title="all_to_all, 16 workers x 4 MiB, local")
    for backend, rows in pairs[pairs["chunk KiB"] != "-"].groupby("backend", sort=False):
        right.plot(rows["chunk KiB"].astype(int) * KIB, rows["MiB/s here"], marker="o",
                   label=backend)
    right.set(xscale="log", xlabel="chunk (bytes)", ylabel="MiB/s",
              title="pair in two packs, by chunk size")
    right.legend(fontsize="small")
    for axis in (left, middle, right):
        axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    return figure


def run(ctx: Context) -> Outcome:
    scratch = str(ctx.scratch(NAME))
    shared_table, shared_targets = shared(ctx, scratch)
    a2a, a2a_targets = all_to_all(ctx, scratch)
    pairs = pair_by_chunk(ctx, scratch)
    rows = pd.concat([shared_table.assign(figure="shared"), a2a.assign(figure="all_to_all"),
                      pairs.assign(figure="pair")], ignore_index=True)
    save(ctx, NAME, rows, plot(shared_table, a2a, pairs))
    notes = [
        "shared (ms, median of one message worker 0 -> worker 1 of one pack):\n"
        + shared_table.round(2).to_string(index=False),
        "all_to_all (16 workers, 4 MiB per destination, local backend):\n"
        + a2a.round(1).to_string(index=False),
        f"pair in two packs, {pairs.attrs['payload'] // MIB} MiB, loopback, beside the paper's "
        "Fig. 9a (a 20-node cluster):\n" + pairs.round(0).to_string(index=False),
    ]
    return Outcome(NAME, "Packs: shared memory, all_to_all by granularity, backends by chunk",
                   pd.DataFrame(), targets=shared_targets + a2a_targets, notes=notes)
