"""Benchmark 2: how soon, and for how many requests, the runner learns an activation ended.

Ours is `Executor.map`, whose single poller pages through the activation list
while invocations are still being sent. The baseline is the usual client loop:
after invoking, GET every still-pending activation, one request each, in rounds
that start every 2 s. Both invoke the same way (the same thread pool over the
same pooled client) and use the same HTTP stack, so only the waiting strategy
differs. Lag is `detected_ms - end_ms` per activation (`end` from the
activation record; client and platform share this machine's clock); requests
are those sent while waiting, invocations excluded.

Sleeps are spread evenly over a window as long as the baseline's period, so
activations end at every phase of its 2 s rounds: with one common sleep the
baseline's lag would depend on where its rounds happen to fall.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from runner.apps.catalog import app_file
from runner.config import WaitConfig

from . import embedded
from .common import BenchError, Context, Outcome, Target, interleaved, medians, p95, ratio, save

NAME = "detection"
SIZES = (100, 1000)
BASELINE_PERIOD_S = 2.0
# (shortest, longest) sleep in seconds. The baseline's requests grow with how long
# activations run (one GET per pending activation per round); --full adds long ones.
SLEEPS_S = ((1, 3),)
FULL_SLEEPS_S = ((1, 3), (10, 12))
# The runner's default list-request rate, and a slower one: the two ends of the trade
# between detection lag and requests (lag ~ half the poll period, requests ~ rate x time).
POLL_RATES = {"bulk_polling": WaitConfig.poll_rate, "bulk_polling_10/s": 10.0}
VARIANTS = (*POLL_RATES, "get_each_2s")


def _payloads(n: int, sleeps: tuple[float, float]) -> list[dict[str, Any]]:
    shortest, longest = sleeps
    return [{"sleep_ms": round(1000 * (shortest + (longest - shortest) * i / n))}
            for i in range(n)]


def _bulk_polling(platform: embedded.Platform, run_dir: Path, n: int,
                  sleeps: tuple[float, float], poll_rate: float) -> dict[str, float]:
    run = embedded.map_run(platform, _payloads(n, sleeps), run_dir, poll_rate)
    lags = run.activations["detected_ms"] - run.activations["end_ms"]
    return {"lag_median_ms": float(lags.median()), "lag_p95_ms": p95(lags),
            "requests": run.requests - n}


def _get_each(platform: embedded.Platform, run_dir: Path, n: int,
              sleeps: tuple[float, float]) -> dict[str, float]:
    client = platform.client
    payloads = [{**payload, "worker_id": worker_id}
                for worker_id, payload in enumerate(_payloads(n, sleeps))]
    with ThreadPoolExecutor(max_workers=platform.concurrency) as pool:
        ids = list(pool.map(lambda payload: client.invoke(platform.action, payload), payloads))
    before = client.requests_sent
    pending = list(ids)
    lags: list[int] = []
    deadline = time.monotonic() + embedded.WAIT_TIMEOUT_S
    next_round = time.monotonic()
    while pending:
        time.sleep(max(0.0, next_round - time.monotonic()))
        next_round += BASELINE_PERIOD_S
        still = []
        for activation_id in pending:
            record = client.get_activation(activation_id)
            if record is None:
                still.append(activation_id)
            elif not (record.get("response") or {}).get("success"):
                raise BenchError(f"activation {activation_id} failed: {record.get('response')}")
            else:
                lags.append(int(time.time() * 1000) - record["end"])
        pending = still
        if pending and time.monotonic() > deadline:
            raise BenchError(f"{len(pending)} activations unfinished after "
                             f"{embedded.WAIT_TIMEOUT_S:.0f} s (see {run_dir})")
    return {"lag_median_ms": float(np.median(lags)), "lag_p95_ms": p95(lags),
            "requests": client.requests_sent - before}


def _measure(variant: str, platform: embedded.Platform, run_dir: Path, n: int,
             sleeps: tuple[float, float]) -> dict[str, float]:
    if variant in POLL_RATES:
        return _bulk_polling(platform, run_dir, n, sleeps, POLL_RATES[variant])
    return _get_each(platform, run_dir, n, sleeps)


def run(ctx: Context) -> Outcome:
    windows = FULL_SLEEPS_S if ctx.full else SLEEPS_S
    scratch = ctx.scratch(NAME)
    rows = []
    with embedded.started(scratch, app_file("sleep", "action.py"), "sleep") as platform:
        embedded.map_run(platform, _payloads(max(SIZES), (0, 0)), scratch / "warmup")
        plan = [(sleeps, n, variant) for sleeps in windows for n in SIZES for variant in VARIANTS]
        for rep, (sleeps, n, variant) in interleaved(ctx.repetitions(), plan):
            label = f"{sleeps[0]:g}-{sleeps[1]:g}"
            run_dir = scratch / f"{variant.replace('/', '_')}-s{label}-n{n}-{rep}"
            measured = _measure(variant, platform, run_dir, n, sleeps)
            rows.append({"sleep_s": label, "n": n, "variant": variant, "rep": rep, **measured})
    raw = pd.DataFrame(rows)
    keys = ["sleep_s", "n", "variant"]
    table = medians(raw, keys, ["lag_median_ms", "lag_p95_ms", "requests"])
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    save(ctx, NAME, raw, _plot(table))
    notes = ["lag = detected_ms - end_ms; lag columns are medians over runs of each run's "
             "median and p95; requests: sent while waiting, invocations excluded"]
    targets = []
    for (sleep_s, n), rows_n in table.groupby(["sleep_s", "n"], sort=False):
        by_variant = rows_n.set_index("variant")
        baseline = by_variant.loc["get_each_2s"]
        for variant, rate in POLL_RATES.items():
            ours = by_variant.loc[variant]
            lag = ratio(baseline["lag_median_ms"], ours["lag_median_ms"])
            tail = ratio(baseline["lag_p95_ms"], ours["lag_p95_ms"])
            fewer = ratio(baseline["requests"], ours["requests"])
            notes.append(f"sleeps {sleep_s} s, N={n}, {rate:g} polls/s: baseline / ours: median "
                         f"lag {lag:.1f}x, p95 lag {tail:.1f}x, requests {fewer:.1f}x")
            if n == 1000:
                where = f"N=1000, sleeps {sleep_s} s, wait.poll_rate={rate:g}"
                targets += [
                    Target(f"detection lag >= 10x lower than GET-each-every-2 s, {where} "
                           "(median)", f"{lag:.1f}x (p95 {tail:.1f}x)", lag >= 10),
                    Target(f"detection lag median < 100 ms, {where}",
                           f"{ours['lag_median_ms']:.0f} ms", ours["lag_median_ms"] < 100),
                    Target(f">= 50x fewer waiting requests than GET-each-every-2 s, {where}",
                           f"{fewer:.1f}x", fewer >= 50),
                ]
    return Outcome(NAME, "Completion detection: sleep action, warm platform", table, targets,
                   notes)


def _plot(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(11, 4))
    lag_axes, request_axes = figure.subplots(1, 2)
    labels = [f"{sleep_s} s, N={n}\n{variant}"
              for sleep_s, n, variant in table[["sleep_s", "n", "variant"]].itertuples(
                  index=False)]
    positions = np.arange(len(table))
    lag_axes.bar(positions - 0.2, table["lag_median_ms"], 0.4, label="median")
    lag_axes.bar(positions + 0.2, table["lag_p95_ms"], 0.4, label="p95")
    lag_axes.set_xticks(positions, labels, fontsize=7)
    lag_axes.set_ylabel("detection lag (ms)")
    lag_axes.legend()
    request_axes.bar(positions, table["requests"], color="tab:grey")
    request_axes.set_xticks(positions, labels, fontsize=7)
    request_axes.set_yscale("log")
    request_axes.set_ylabel("HTTP requests while waiting (log)")
    figure.suptitle("Completion detection by sleep and N (medians over runs)")
    return figure
