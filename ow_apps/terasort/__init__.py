"""terasort: TeraGen input, a sample-partitioned sort, and a TeraValidate-style check.

Both modes split the input into one record range per worker and send each
record to the worker owning its key range (boundaries are quantiles of keys
sampled by the driver). Map mode is classic Hadoop: a `map` stage writes one
intermediate file per (mapper, reducer) and a `reduce` stage sorts them, so
the shuffle goes through storage. Burst mode is one stage whose shuffle is an
`all_to_all`. Input and outputs live in the run's storage (ow_apps/storage.py),
and every run works under its own scratch name there, removed once validated
unless `keep_output` is set. The Rust crates (`rust/` for the map stages,
`rust_burst/`, `app.lang=rust`) take the same payloads and write the same
layout, so the driver and the check serve both languages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from runner.apps import RunContext, Validation
from runner.config import AppConfig, ConfigError, Lang

from .. import storage

SAMPLE_KEYS = 100_000  # TeraSort's default sample size
SAMPLE_SPLITS = 10  # and the number of places in the input it takes the sample from



@dataclass
class Params(AppConfig):
    include: list[str] = field(
        default_factory=lambda: ["teraformat.py", "../storage.py", "../phases.py"])
    memory: int = 512
    timeout_ms: int = 300_000
    size_mb: int = 16  # input size in decimal MB: 10,000 records per MB
    seed: int = 42  # input generator seed
    keep_output: bool = False  # keep runs/<id>/output/ after validation


def input_name(params: Params) -> str:
    """Where the input is under the storage root; its summary has the suffix .json."""
    return f"terasort/teragen-{params.size_mb}mb-s{params.seed}.bin"


def dataset(params: Params, root: storage.Location) -> tuple[storage.Location, dict[str, int]]:
    """The input and its summary (records, checksum), generated once per size and seed."""
    from .teragen import generate, records_for, summary_of

    records = records_for(params.size_mb)
    data = storage.join(root, input_name(params))
    summary = storage.join(root, input_name(params).removesuffix(".bin") + ".json")
    known = summary_of(data, summary, records)
    return data, known if known is not None else generate(data, summary, records, params.seed)


def boundaries(data: storage.Location, records: int, workers: int) -> list[str]:
    """workers - 1 key quantiles of a sample, hex-encoded for the payloads.

    The sample is TeraInputFormat's: runs of consecutive records at SAMPLE_SPLITS
    places spread over the input, so a few ranged reads fetch it, not one per key.
    """
    import numpy as np

    from .teraformat import RECORD, RECORD_BYTES

    splits = min(SAMPLE_SPLITS, records)
    run = max(1, min(records, SAMPLE_KEYS) // splits)
    starts = np.linspace(0, records - run, num=splits).astype(np.int64)
    sample = np.sort(np.concatenate([
        np.frombuffer(storage.read_range(data, start * RECORD_BYTES, run * RECORD_BYTES),
                      dtype=RECORD)["key"]
        for start in starts
    ]))
    return [sample[len(sample) * i // workers].hex() for i in range(1, workers)]


def _slice(records: int, workers: int, worker_id: int) -> tuple[int, int]:
    per, extra = divmod(records, workers)
    return worker_id * per + min(worker_id, extra), per + (1 if worker_id < extra else 0)


def payloads(params: Params, ctx: RunContext) -> list[dict[str, Any]]:
    """One input slice per worker, the shared boundaries, and a fresh scratch name."""
    if params.size_mb < 1:
        raise ConfigError(f"app.size_mb={params.size_mb}: must be an integer >= 1")
    root = storage.root(ctx.storage, ctx.data_dir)
    data, summary = dataset(params, root)
    records = summary["records"]
    scratch = f"terasort/runs/{ctx.mode}-w{ctx.workers}-{uuid.uuid4().hex[:12]}"
    common = {"storage": root, "input": input_name(params),
              "boundaries": boundaries(data, records, ctx.workers), "scratch": scratch}
    return [
        {**common, "first": first, "count": count, **_urls(params, ctx, root, scratch, worker)}
        for worker, (first, count) in enumerate(_slice(records, ctx.workers, w)
                                                for w in range(ctx.workers))
    ]


def _urls(params: Params, ctx: RunContext, root: storage.Location, scratch: str,
          worker: int) -> dict[str, Any]:
    """A Rust worker's presigned URLs on S3: the input, and what it writes (a mapper its
    shuffle objects, a burst worker its part). Python workers use boto3 themselves."""
    from .teraformat import part_path, shuffle_path

    if params.lang != Lang.rust:
        return {}
    writes = ([shuffle_path(scratch, worker, reducer) for reducer in range(ctx.workers)]
              if ctx.mode == "map" else [part_path(scratch, worker)])
    return storage.presigned(root, reads=[input_name(params)], writes=writes)


def _reducer_urls(params: Params, root: storage.Location, scratch: str, mappers: int,
                  reducer: int) -> dict[str, Any]:
    """A Rust reducer's presigned URLs on S3: every mapper's object for it, and its part."""
    from .teraformat import part_path, shuffle_path

    if params.lang != Lang.rust:
        return {}
    return storage.presigned(root, reads=[shuffle_path(scratch, m, reducer)
                                          for m in range(mappers)],
                             writes=[part_path(scratch, reducer)])


def run(params: Params, ctx: RunContext, executor: Any) -> dict[str, Any]:
    """Burst: one stage. Map: a `map` stage, then a `reduce` stage once every mapper is done."""
    from .teraformat import shuffle_dir

    work = payloads(params, ctx)
    answer = {"scratch": work[0]["scratch"], "parts": ctx.workers}
    if ctx.mode == "burst":
        outcomes = executor.burst(work)
        return {**answer, "complete": all(o.ok for o in outcomes)}
    if not all(o.ok for o in executor.map(work, stage="map")):
        return {**answer, "complete": False}
    root = work[0]["storage"]
    reducer = {"role": "reducer", "storage": root, "scratch": answer["scratch"],
               "mappers": ctx.workers}
    reducers = [{**reducer, **_reducer_urls(params, root, answer["scratch"], ctx.workers, w)}
                for w in range(ctx.workers)]
    outcomes = executor.map(reducers, stage="reduce")  # worker_id picks the part
    storage.remove_tree(storage.join(root, shuffle_dir(answer["scratch"])))
    return {**answer, "complete": all(o.ok for o in outcomes)}


def _check_parts(root: storage.Location, scratch: str, parts: int,
                 expected: dict[str, int]) -> Validation:
    """TeraValidate: each part sorted, parts in order, same records as the input."""
    import numpy as np

    from .teraformat import RECORD, part_path
    from .teragen import add_checksums, checksum

    records, total, last_key = 0, 0, None
    for reducer in range(parts):
        location = storage.join(root, part_path(scratch, reducer))
        if not storage.exists(location):
            return Validation(False, f"output part {reducer} is missing")
        part = np.frombuffer(storage.read(location), dtype=RECORD)
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
    root = storage.root(ctx.storage, ctx.data_dir)
    if answer["complete"]:
        _, expected = dataset(params, root)
        verdict = _check_parts(root, answer["scratch"], answer["parts"], expected)
    else:
        verdict = Validation(False, "a stage failed: the output is incomplete")
    if not params.keep_output:
        storage.remove_tree(storage.join(root, answer["scratch"]))
    return verdict
