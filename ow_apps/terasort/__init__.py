"""terasort: TeraGen input, a sample-partitioned sort, and a TeraValidate-style check.

Both modes split the input into one record range per worker and send each
record to the worker owning its key range (boundaries are quantiles of keys
sampled by the driver). Map mode is classic Hadoop: a `map` stage writes one
intermediate file per (mapper, reducer) and a `reduce` stage sorts them, so
the shuffle goes through storage. Burst mode is one stage whose shuffle is an
`all_to_all`. Every run works in its own scratch directory under the data
directory, removed once validated unless `keep_output` is set.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from runner.apps import RunContext, Validation
from runner.config import AppConfig, ConfigError

from .teraformat import RECORD, part_path
from .teragen import add_checksums, checksum, generate, records_for, summary_of

SAMPLE_KEYS = 100_000  # TeraSort's default sample size


@dataclass
class Params(AppConfig):
    size_mb: int = 16
    seed: int = 42
    keep_output: bool = False


def dataset(params: Params, data_dir: Path) -> tuple[Path, dict[str, int]]:
    """The input file and its summary (records, checksum), generated once per size and seed."""
    records = records_for(params.size_mb)
    path = data_dir.resolve() / "terasort" / f"teragen-{params.size_mb}mb-s{params.seed}.bin"
    summary = summary_of(path, records)
    return path, summary if summary is not None else generate(path, records, params.seed)


def boundaries(path: Path, records: int, workers: int) -> list[str]:
    """workers - 1 key quantiles of evenly spaced sample rows, hex-encoded for the payloads."""
    rows = np.linspace(0, records - 1, num=min(records, SAMPLE_KEYS)).astype(np.int64)
    sample = np.sort(np.memmap(path, dtype=RECORD, mode="r", shape=(records,))["key"][rows])
    return [sample[len(sample) * i // workers].hex() for i in range(1, workers)]


def _slice(records: int, workers: int, worker_id: int) -> tuple[int, int]:
    per, extra = divmod(records, workers)
    return worker_id * per + min(worker_id, extra), per + (1 if worker_id < extra else 0)


def payloads(params: Params, ctx: RunContext) -> list[dict[str, Any]]:
    """One input slice per worker, the shared boundaries, and a fresh scratch directory."""
    if params.size_mb < 1:
        raise ConfigError(f"app.size_mb={params.size_mb}: must be an integer >= 1")
    path, summary = dataset(params, ctx.data_dir)
    records = summary["records"]
    scratch = path.parent / "runs" / f"{ctx.mode}-w{ctx.workers}-{uuid.uuid4().hex[:12]}"
    common = {"input": str(path), "boundaries": boundaries(path, records, ctx.workers),
              "scratch": str(scratch)}
    return [
        {**common, "first": first, "count": count}
        for first, count in (_slice(records, ctx.workers, w) for w in range(ctx.workers))
    ]


def run(params: Params, ctx: RunContext, executor: Any) -> dict[str, Any]:
    """Burst: one stage. Map: a `map` stage, then a `reduce` stage once every mapper is done."""
    work = payloads(params, ctx)
    answer = {"scratch": work[0]["scratch"], "parts": ctx.workers}
    if ctx.mode == "burst":
        outcomes = executor.burst(work)
        return {**answer, "complete": all(o.ok for o in outcomes)}
    if not all(o.ok for o in executor.map(work, stage="map")):
        return {**answer, "complete": False}
    reducer = {"role": "reducer", "scratch": answer["scratch"], "mappers": ctx.workers}
    outcomes = executor.map([reducer] * ctx.workers, stage="reduce")  # worker_id picks the part
    shutil.rmtree(Path(answer["scratch"]) / "shuffle", ignore_errors=True)
    return {**answer, "complete": all(o.ok for o in outcomes)}


def _check_parts(scratch: str, parts: int, expected: dict[str, int]) -> Validation:
    """TeraValidate: each part sorted, parts in order, same records as the input."""
    records, total, last_key = 0, 0, None
    for reducer in range(parts):
        path = part_path(scratch, reducer)
        if not path.is_file():
            return Validation(False, f"output part {reducer} is missing")
        part = np.fromfile(path, dtype=RECORD)
        if len(part) == 0:
            continue
        keys = part["key"]
        unsorted = np.flatnonzero(keys[1:] < keys[:-1])
        if len(unsorted):
            return Validation(False, f"part {reducer} is not sorted at record {unsorted[0] + 1}")
        if last_key is not None and keys[0] < last_key:
            return Validation(False, f"part {reducer} starts below the end of the part before it")
        last_key = keys[-1]
        records += len(part)
        total = add_checksums(total, checksum(part))
    if records != expected["records"]:
        return Validation(False, f"{records} records in the output, {expected['records']} in")
    if total != expected["checksum"]:
        return Validation(False, "output checksum differs from the input's: records changed")
    return Validation(True, f"{records} records sorted in {parts} parts, checksum matches")


def validate(params: Params, ctx: RunContext, answer: dict[str, Any]) -> Validation:
    if answer["complete"]:
        _, expected = dataset(params, ctx.data_dir)
        verdict = _check_parts(answer["scratch"], answer["parts"], expected)
    else:
        verdict = Validation(False, "a stage failed: the output is incomplete")
    if not params.keep_output:
        shutil.rmtree(answer["scratch"], ignore_errors=True)
    return verdict
