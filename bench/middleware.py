"""Throughput of the burst middleware: pair, broadcast, gather and all_to_all by payload size.

    python bench/middleware.py            # short size list, 8 workers, one per pack (~1 min)
    python bench/middleware.py --full     # 1 KiB .. 64 MiB in powers of 4
    python bench/middleware.py --workers 8,32 --granularity 1,8 --sizes 64M \
        --ops broadcast,all_to_all

Bursts run in this process's children exactly as a pack runs in a container
(``run_pack``: one forked process per worker), without the platform, so only
the middleware is measured. Each backend configuration is one burst that runs
every (op, size) in turn: processes start and connect once. The Local backend
needs nothing; Redis configurations (one per chunk size) use a redis-server
this script starts on a free port. Writes ``middleware.csv`` and
``middleware.png`` into ``outputs/bench/<timestamp>/`` and prints the table.

``size`` is what the busiest receiver gets: the message for pair and
broadcast, the root's total for gather (each worker sends size/N), and each
worker's total for all_to_all (N chunks of size/N). An operation's time runs
from the first worker leaving the barrier before it to the last worker
finishing it (all workers share the machine's monotonic clock);
``throughput_mib_s`` is size over the median time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from runner.burst import catalog
from runner.burst.pack import run_pack
from runner.burst.spec import parse_pack_line

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the file-only backend

KIB, MIB = 1 << 10, 1 << 20
PROJECT = Path(__file__).resolve().parent.parent
OPS = ("pair", "broadcast", "gather", "all_to_all")
SHORT_SIZES = (KIB, 64 * KIB, MIB, 16 * MIB, 64 * MIB)
FULL_SIZES = tuple(KIB * 4**power for power in range(9))  # 1 KiB .. 64 MiB
REDIS_CHUNKS_KB = (64, 1024, 16384)
BURST_TIMEOUT_S = 900.0

Run = Callable[[], object]


def repetitions(size: int) -> int:
    """Timed runs per (op, size): many while they are cheap, few once they take seconds."""
    if size <= 64 * KIB:
        return 20
    if size <= MIB:
        return 8
    return 4 if size <= 16 * MIB else 3


# --- inside the workers ------------------------------------------------------------------


def _pair(burst: Any, size: int) -> Run:
    data = np.full(size, 1, dtype=np.uint8)
    if burst.worker_id == 0 and burst.burst_size > 1:
        return lambda: burst.send(1, data)
    if burst.worker_id == 1:
        return lambda: burst.recv(0)
    return lambda: None


def _broadcast(burst: Any, size: int) -> Run:
    data = np.full(size, 2, dtype=np.uint8) if burst.worker_id == 0 else None
    return lambda: burst.broadcast(data, root=0)


def _gather(burst: Any, size: int) -> Run:
    data = np.full(size // burst.burst_size, 3, dtype=np.uint8)
    return lambda: burst.gather(data, root=0)


def _all_to_all(burst: Any, size: int) -> Run:
    share = size // burst.burst_size
    data = np.full(share * burst.burst_size, 4, dtype=np.uint8)
    chunks = [data[dest * share : (dest + 1) * share] for dest in range(burst.burst_size)]
    return lambda: burst.all_to_all(chunks)


PREPARE: dict[str, Callable[[Any, int], Run]] = {
    "pair": _pair,
    "broadcast": _broadcast,
    "gather": _gather,
    "all_to_all": _all_to_all,
}


def bench_worker(args: dict[str, Any], burst: Any) -> dict[str, Any]:
    """Time every (op, size, reps) of the plan; one untimed run first opens the connections."""
    spans = []
    for op, size, reps in args["plan"]:
        run = PREPARE[op](burst, size)
        timed = []
        for rep in range(reps + 1):
            burst.barrier()
            started = time.perf_counter()
            run()
            if rep:
                timed.append((started, time.perf_counter()))
        spans.append(timed)
    return {"spans": spans}


# --- the driver --------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """One burst: its shape and how packs reach each other."""

    backend: str  # a name of runner/burst/catalog.py: local, redis, rabbitmq, ...
    workers: int
    granularity: int
    chunk_kb: int | None = None

    @property
    def label(self) -> str:
        chunk = f" chunk {self.chunk_kb} KiB" if self.chunk_kb else ""
        return f"{self.backend}{chunk}, {self.workers} w, g={self.granularity}"


def run_burst(
    setup: Setup, params: dict[str, Any], backend_info: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every pack in its own forked runner, as on a platform; envelopes in worker order."""
    groups = range(0, setup.workers, setup.granularity)
    info = {str(i): [first, min(first + setup.granularity, setup.workers) - 1]
            for i, first in enumerate(groups)}
    deadline = str(int((time.time() + BURST_TIMEOUT_S) * 1000))
    burst_id = f"bench-{time.monotonic_ns()}"
    runners: dict[int, tuple[int, bytearray]] = {}
    sys.stdout.flush()
    for group, (first, last) in info.items():
        line = {"value": [params] * (last - first + 1), "invoker_id": group,
                "transaction_id": burst_id, "burst_info": info,
                "middleware": {"backend_info": backend_info, "chunk_size": setup.chunk_kb},
                "deadline": deadline}
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # a pack runner: never returns into the driver
            code = 1
            try:
                os.close(read_fd)
                answer = memoryview(json.dumps(run_pack(parse_pack_line(line), bench_worker))
                                    .encode())
                while answer:
                    answer = answer[os.write(write_fd, answer) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        runners[read_fd] = (pid, bytearray())
    with selectors.DefaultSelector() as selector:
        for fd in runners:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():
                chunk = os.read(key.fd, 1 << 20)
                if chunk:
                    runners[key.fd][1].extend(chunk)
                    continue
                selector.unregister(key.fd)
                os.close(key.fd)
                os.waitpid(runners[key.fd][0], 0)
    envelopes = [env for _, data in runners.values() for env in json.loads(data or b"[]")]
    return sorted(envelopes, key=lambda envelope: envelope["worker_id"])


def measure(setup: Setup, plan: list[tuple[str, int, int]], uri: str) -> list[dict[str, Any]]:
    """One burst over the whole plan; one row per (op, size)."""
    kind = catalog.lookup(setup.backend)
    if kind is None:
        raise ValueError(f"unknown backend {setup.backend!r}; supported: {catalog.names()}")
    backend_type = kind.backend_type
    envelopes = run_burst(setup, {"plan": plan}, {"backend_type": backend_type, "uri": uri})
    failed = [env for env in envelopes if env["error"]]
    if len(envelopes) != setup.workers or failed:
        error = failed[0]["error"] if failed else f"{len(envelopes)} envelopes"
        raise RuntimeError(f"{setup.label}: {error}")
    rows = []
    for index, (op, size, reps) in enumerate(plan):
        per_worker = [env["result"]["spans"][index] for env in envelopes]
        times = [
            max(spans[rep][1] for spans in per_worker) - min(spans[rep][0] for spans in per_worker)
            for rep in range(reps)
        ]
        median = statistics.median(times)
        rows.append({
            "setup": setup.label, "backend": setup.backend, "chunk_kb": setup.chunk_kb,
            "workers": setup.workers, "granularity": setup.granularity, "op": op,
            "size_bytes": size, "reps": reps,
            "time_ms_median": median * 1000, "time_ms_min": min(times) * 1000,
            "throughput_mib_s": size / MIB / median,
        })
    return rows


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server not found: install it (apt-get install redis-server) "
                 "or pass --backends local")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        end = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > end or proc.poll() is not None:
                    sys.exit("redis-server did not start")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def setups(args: argparse.Namespace) -> Iterator[Setup]:
    for workers, granularity, backend in itertools.product(
        args.workers, args.granularity, args.backends
    ):
        granularity = min(granularity, workers)
        if backend == "local":
            yield Setup("local", workers, granularity)
        elif granularity < workers:  # a single pack never touches Redis
            for chunk_kb in args.chunks:
                yield Setup("redis", workers, granularity, chunk_kb)


def plot(table: pd.DataFrame, path: Path) -> None:
    ops = list(dict.fromkeys(table["op"]))
    figure, axes = plt.subplots(1, len(ops), figsize=(4.5 * len(ops), 4), squeeze=False)
    for axis, op in zip(axes[0], ops, strict=True):
        rows = table[table["op"] == op]
        for label, line in rows.groupby("setup", sort=False):
            axis.plot(line["size_bytes"], line["throughput_mib_s"], marker="o", label=label)
        axis.set(title=op, xscale="log", yscale="log", xlabel="size (bytes)",
                 ylabel="MiB/s (size / median time)")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def size_arg(text: str) -> int:
    """``1K``, ``64M``, ``1048576``: sizes in bytes with binary suffixes."""
    scale = {"K": KIB, "M": MIB, "G": 1 << 30}.get(text[-1:].upper(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


def int_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every size from 1 KiB to 64 MiB")
    parser.add_argument("--sizes", type=lambda text: [size_arg(s) for s in text.split(",")],
                        help="comma-separated sizes, e.g. 1K,1M,64M (overrides --full)")
    parser.add_argument("--ops", type=lambda text: text.split(","), default=list(OPS))
    parser.add_argument("--workers", type=int_list, default=[8])
    parser.add_argument("--granularity", type=int_list, default=[1],
                        help="workers per pack; redis is only used with more than one pack")
    parser.add_argument("--backends", type=lambda text: text.split(","),
                        default=["local", "redis"])
    parser.add_argument("--chunks", type=int_list, default=list(REDIS_CHUNKS_KB),
                        help="Redis chunk sizes in KiB")
    parser.add_argument("--out", type=Path, default=PROJECT / "outputs" / "bench")
    args = parser.parse_args(argv)
    unknown = set(args.ops) - set(OPS) or set(args.backends) - {"local", "redis"}
    if unknown:
        parser.error(f"unknown op or backend: {', '.join(sorted(unknown))}")
    args.sizes = args.sizes or list(FULL_SIZES if args.full else SHORT_SIZES)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    plan = [(op, size, repetitions(size)) for op in args.ops for size in args.sizes]
    out_dir = args.out / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with ExitStack() as stack:
        local_root = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-", dir="/tmp"))
        redis_uri = stack.enter_context(redis_server()) if "redis" in args.backends else ""
        for setup in setups(args):
            began = time.monotonic()
            uri = tempfile.mkdtemp(dir=local_root) if setup.backend == "local" else redis_uri
            rows += measure(setup, plan, uri)
            print(f"{setup.label}: {time.monotonic() - began:.1f} s", flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(out_dir / "middleware.csv", index=False)
    plot(table, out_dir / "middleware.png")
    shown = table.assign(size=[_human(size) for size in table["size_bytes"]])
    shown = shown.pivot_table(index=["op", "size_bytes", "size"], columns="setup",
                              values="throughput_mib_s", sort=False).droplevel("size_bytes")
    print(f"\nthroughput in MiB/s (size / median time); {time.monotonic() - started:.0f} s")
    print(shown.round(1).to_string())
    print(f"\n{out_dir / 'middleware.csv'}\n{out_dir / 'middleware.png'}")


def _human(size: int) -> str:
    return f"{size // MIB} MiB" if size >= MIB else f"{size // KIB} KiB"


if __name__ == "__main__":
    main()
