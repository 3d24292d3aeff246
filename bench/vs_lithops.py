"""Benchmark 3: N no-op functions end to end, embedded platform vs Lithops localhost.

Embedded: `Executor.map` against the platform, already started with the no-op
action deployed and warm, from the first invocation to every result in hand
(through the REST API, as every run does). Lithops: one
`FunctionExecutor(backend="localhost")`, `map` + `get_result` timed together.
The floor: a warm `concurrent.futures.ProcessPoolExecutor` with one process per
core doing the same no-op calls, i.e. what any local parallel map has to pay.

Lithops comes only with the bench extra (`pip install -e '.[bench]'`); without
it the other two variants still run and the report says why Lithops is missing.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from . import embedded, tasks
from .common import Context, Outcome, Target, interleaved, ratio, save

NAME = "lithops"
# Lithops needs ~30 s per repetition on 2 cores: two fit the short default's time budget.
SHORT_REPS = 2
SIZES = (10, 100)
FULL_SIZES = (10, 100, 1000)
VARIANTS = ("embedded", "lithops_localhost", "process_pool")


@contextmanager
def _lithops() -> Iterator[tuple[Any, str]]:
    """(executor, "") or (None, why Lithops cannot run here)."""
    try:
        import cloudpickle
        import lithops
    except ImportError as error:
        yield None, f"Lithops is not installed ({error}); `make bench` installs the bench extra"
        return
    # By default Lithops ships the function's modules, and its localhost backend unpacks them
    # again for every task while other tasks of the job import them: with 2 worker processes
    # that race breaks imports (seen with Lithops 3.8). Pickled by value, `noop` needs no
    # module, just like a function in a user's __main__ script.
    cloudpickle.register_pickle_by_value(tasks)
    try:
        # Lithops' localhost default runs tasks with the `python` found on PATH, which is not
        # necessarily this virtualenv's interpreter (the one that has Lithops installed).
        executor = lithops.FunctionExecutor(backend="localhost", storage="localhost",
                                            runtime=sys.executable, log_level="WARNING")
    except Exception as error:  # any failure of a third-party setup: report it, go on
        yield None, f"Lithops localhost could not start here: {type(error).__name__}: {error}"
        return
    try:
        yield executor, ""
    finally:
        executor.clean()


def _timed(call: Callable[[], list[Any]], n: int) -> float:
    started = time.perf_counter()
    results = call()
    elapsed = time.perf_counter() - started
    if len(results) != n:
        raise RuntimeError(f"{len(results)} results for {n} calls")
    return elapsed


def run(ctx: Context) -> Outcome:
    sizes = FULL_SIZES if ctx.full else SIZES
    reps = ctx.repetitions(SHORT_REPS)
    scratch = ctx.scratch(NAME)
    notes = []
    rows = []
    with ExitStack() as stack:
        platform = stack.enter_context(
            embedded.started(scratch, embedded.NOOP_ACTION, "noop"))
        pool = stack.enter_context(ProcessPoolExecutor(
            os.cpu_count(), mp_context=multiprocessing.get_context("spawn")))
        lithops_executor, missing = stack.enter_context(_lithops())

        cold = embedded.map_run(platform, [{}] * max(sizes), scratch / "cold")
        notes.append(f"embedded, first (cold) run of {max(sizes)}: {cold.elapsed_s:.2f} s; "
                     "the table's runs are warm")
        list(pool.map(tasks.noop, range(os.cpu_count() or 1)))  # the floor starts warm as well

        def lithops_map(n: int) -> list[Any]:
            futures = lithops_executor.map(tasks.noop, range(n), include_modules=None)
            return lithops_executor.get_result(futures, show_progressbar=False)

        measure: dict[str, Callable[[int, int], float]] = {
            "embedded": lambda n, rep: embedded.map_run(
                platform, [{}] * n, scratch / f"embedded-n{n}-{rep}").elapsed_s,
            "process_pool": lambda n, rep: _timed(lambda: list(pool.map(tasks.noop, range(n))), n),
        }
        if lithops_executor is None:
            notes.append(missing)
        else:
            lithops_map(2)  # Lithops records its runtime's metadata on first use
            measure["lithops_localhost"] = lambda n, rep: _timed(lambda: lithops_map(n), n)
        plan = [(n, variant) for n in sizes for variant in measure]
        for rep, (n, variant) in interleaved(reps, plan):
            if variant not in measure:
                continue  # Lithops failed earlier in this run
            try:
                seconds = measure[variant](n, rep)
            except Exception as error:
                if variant != "lithops_localhost":
                    raise
                notes.append(f"Lithops localhost failed here at N={n}, dropped from the "
                             f"comparison: {type(error).__name__}: {error}")
                del measure[variant]
                continue
            rows.append({"n": n, "variant": variant, "rep": rep, "seconds": seconds})
    raw = pd.DataFrame(rows)
    wide = raw.pivot_table(index="n", columns="variant", values="seconds", aggfunc="median")
    table = wide[[variant for variant in VARIANTS if variant in wide.columns]]
    table = table.add_suffix("_s").rename_axis(columns=None).reset_index()
    table["runs"] = reps
    targets = _targets(table)
    if "lithops_localhost_s" in table:
        table["lithops/embedded"] = table["lithops_localhost_s"] / table["embedded_s"]
    table["embedded/process_pool"] = table["embedded_s"] / table["process_pool_s"]
    save(ctx, NAME, raw, _plot(raw))
    return Outcome(NAME, "Embedded platform vs Lithops localhost: N no-op functions end to end",
                   table, targets, notes)


def _targets(table: pd.DataFrame) -> list[Target]:
    at = table.set_index("n")
    embedded_100 = at.at[100, "embedded_s"]
    goal = "embedded map of 100 no-ops >= 40x faster than Lithops localhost"
    lithops_100 = at.at[100, "lithops_localhost_s"] if "lithops_localhost_s" in at else math.nan
    if math.isnan(lithops_100):
        versus = Target(goal, "Lithops not measured (see notes)", None)
    else:
        speedup = ratio(lithops_100, embedded_100)
        versus = Target(goal, f"{speedup:.1f}x", speedup >= 40)
    return [versus, Target("100 no-op map activations, first invoke to all results < 1 s",
                           f"{embedded_100:.2f} s", embedded_100 < 1)]


def _plot(raw: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for variant, rows in raw.groupby("variant", sort=False):
        line = rows.groupby("n")["seconds"].median()
        axes.plot(line.index, line.to_numpy(), marker="o", label=variant)
        axes.scatter(rows["n"], rows["seconds"], s=8, color=axes.lines[-1].get_color())
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("no-op functions (N)")
    axes.set_ylabel("seconds to all results (line: median)")
    axes.legend()
    return figure
