"""Benchmark 5: k-means end to end, burst vs map, against NumPy in one process.

CLI runs of `app=kmeans` with its default size (conf/app/kmeans.yaml) in both
modes at 8 and 32 workers. The single-machine limit is NumPy's Lloyd's
(ow_apps/kmeans/lloyd.py, the arithmetic every worker runs) on the whole data
in one process, reading the same input and stopping by the same rule, as the
app's validation does. Its time
compares with a run's `run_ms`: invocation, every iteration and the driver's
work, but not starting the platform or validation. NumPy runs in a child
process twice: with BLAS's default threads (one per core) and with one thread,
because on a busy machine spinning BLAS threads can make the default slower.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ow_apps import storage
from ow_apps.kmeans import Params, dataset, initial_centroids
from ow_apps.kmeans.lloyd import lloyd
from runner.config import app_params

from .cli import run_cli
from .common import PROJECT, Context, Outcome, interleaved, medians, save
from .composed import runner_config

NAME = "kmeans"
SIZES = (8, 32)
MODES = ("burst", "map")
# NumPy variants: name -> BLAS threads (None: the library's default).
NUMPY = {"numpy": None, "numpy_1_thread": 1}
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _input() -> tuple[Params, storage.Location]:
    """A default run's parameters and input, generated now unless the runner's data
    directory already holds it (so no timed run pays for generating it)."""
    cfg = runner_config(["app=kmeans"])
    params = app_params(cfg, Params)
    return params, dataset(params, storage.root(cfg.storage, cfg.data_dir))


def numpy_lloyd(params: Params, location: storage.Location) -> tuple[float, int]:
    """(milliseconds, iterations) of the whole computation in one process, input read included."""
    started = time.perf_counter()
    points = np.frombuffer(storage.read(location)).reshape(params.points, params.dims)
    _, iterations = lloyd(points, initial_centroids(params, location), params.iterations,
                          params.threshold)
    return (time.perf_counter() - started) * 1000, iterations


def _numpy_child(threads: int | None) -> tuple[float, int]:
    """`numpy_lloyd` in a fresh interpreter: BLAS reads its thread count only at import."""
    env = dict(os.environ)
    if threads is not None:
        env.update({name: str(threads) for name in BLAS_THREADS})
    done = subprocess.run([sys.executable, "-m", "bench.kmeans_e2e"], cwd=PROJECT,
                          env=env, capture_output=True, text=True, check=True)
    milliseconds, iterations = done.stdout.split()
    return float(milliseconds), int(iterations)


def run(ctx: Context) -> Outcome:
    scratch = ctx.scratch(NAME)
    params, _ = _input()
    plan = [(mode, workers) for workers in SIZES for mode in MODES]
    plan += [(name, 1) for name in NUMPY]
    rows = []
    for rep, (mode, workers) in interleaved(ctx.repetitions(), plan):
        if mode in NUMPY:
            run_ms, iterations = _numpy_child(NUMPY[mode])
            rows.append({"mode": mode, "workers": workers, "rep": rep, "run_ms": run_ms,
                         "iterations": iterations})
            continue
        result = run_cli([f"mode={mode}", f"workers={workers}", "app=kmeans"],
                         scratch / f"{mode}_w{workers}_r{rep}")
        summary = result.summary
        rows.append({"mode": mode, "workers": workers, "rep": rep, "run_ms": summary["run_ms"],
                     "makespan_ms": summary["makespan_ms"], "total_ms": summary["total_ms"],
                     "activations": summary["activations"],
                     "validation": summary["validation"]})
    raw = pd.DataFrame(rows)
    table = medians(raw, ["mode", "workers"],
                    ["run_ms", "makespan_ms", "total_ms", "activations"])
    numpy_ms = table.loc[table["mode"].isin(NUMPY), "run_ms"].min()
    table["run/best_numpy"] = table["run_ms"] / numpy_ms
    save(ctx, NAME, raw, _plot(table))
    iterations = int(raw.loc[raw["mode"].isin(NUMPY), "iterations"].iloc[0])
    return Outcome(
        NAME, f"k-means end to end: {params.points} points, {params.dims} dims, k={params.k}",
        table, [],
        [f"every run validated; NumPy Lloyd's needed {iterations} iterations "
         f"(cap {params.iterations})",
         "run_ms: the runner's run step (invoke, all iterations, driver); makespan_ms: first "
         "submit to last end; total_ms: the whole CLI run minus Python and Hydra start-up; "
         "run/best_numpy: run_ms over the faster NumPy variant's"],
    )


def _plot(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(7, 4))
    axes = figure.subplots()
    runs = table[~table["mode"].isin(NUMPY)]
    labels = [f"{mode}\n{workers} workers"
              for mode, workers in zip(runs["mode"], runs["workers"], strict=True)]
    axes.bar(range(len(runs)), runs["run_ms"], color="tab:blue", label="run step")
    for (name, numpy_ms), style in zip(
        table.loc[table["mode"].isin(NUMPY), ["mode", "run_ms"]].itertuples(index=False),
        ("--", ":"), strict=True,
    ):
        axes.axhline(numpy_ms, color="black", linestyle=style, label=f"{name}, one process")
    axes.set_xticks(range(len(runs)), labels)
    axes.set_ylabel("milliseconds (median)")
    axes.set_title("k-means end to end")
    axes.legend()
    return figure


if __name__ == "__main__":
    milliseconds, iterations = numpy_lloyd(*_input())
    print(milliseconds, iterations)
