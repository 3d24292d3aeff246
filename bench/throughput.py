"""Benchmark 1: how fast map invocations leave the client.

Ours is `Executor.map` itself: a thread pool over one pooled `OpenWhiskClient`,
with the bulk poller running alongside as in a real run. The baseline is the
original client's way: one plain `requests.post` after another, each on a new
connection. Both send the same no-op invocations to the same warm platform.
The invocation phase runs from the first request sent to the last 202
received (client clock); ours also reports when every result was in hand.
"""

from __future__ import annotations

import os
import time

import pandas as pd
import requests
from matplotlib.figure import Figure

from . import cpu, embedded
from .common import BenchError, Context, Outcome, Target, interleaved, medians, ratio, save

NAME = "throughput"
INVOCATIONS = 1000
VARIANTS = ("executor", "one_by_one")


def _executor(platform: embedded.Platform, ctx: Context, rep: int) -> dict[str, float]:
    run = embedded.map_run(platform, [{}] * INVOCATIONS, ctx.scratch(NAME) / f"executor-{rep}")
    invoke_s = (run.activations["accepted_ms"].max() - run.activations["submit_ms"].min()) / 1000
    return {"invoke_s": invoke_s, "all_results_s": run.elapsed_s}


def _one_by_one(platform: embedded.Platform, ctx: Context, rep: int) -> dict[str, float]:
    url = f"{platform.client.base}/actions/{platform.action}"
    auth = platform.client.session.auth
    since_ms = int(time.time() * 1000)
    started = time.perf_counter()
    ids = []
    for worker_id in range(INVOCATIONS):
        response = requests.post(url, json={"worker_id": worker_id}, auth=auth, timeout=75)
        if response.status_code != 202:
            raise BenchError(f"baseline invocation answered HTTP {response.status_code}: "
                             f"{response.text[:200]}")
        ids.append(response.json()["activationId"])
    invoke_s = time.perf_counter() - started
    embedded.settle(platform, ids, since_ms)
    return {"invoke_s": invoke_s, "all_results_s": float("nan")}


MEASURE = {"executor": _executor, "one_by_one": _one_by_one}


def run(ctx: Context) -> Outcome:
    rows = []
    with embedded.started(ctx.scratch(NAME), embedded.NOOP_ACTION, "noop") as platform:
        # Cold starts belong to another benchmark: fill the warm pool first.
        embedded.map_run(platform, [{}] * INVOCATIONS, ctx.scratch(NAME) / "warmup")
        platform_pid = cpu.platform_pid()
        for rep, variant in interleaved(ctx.repetitions(), VARIANTS):
            before = cpu.sample(platform_pid)
            measured = MEASURE[variant](platform, ctx, rep)
            used = cpu.sample(platform_pid) - before
            rows.append({"variant": variant, "rep": rep, "invocations": INVOCATIONS, **measured,
                         "invocations_per_s": INVOCATIONS / measured["invoke_s"],
                         "client_cpu_s": used.client, "platform_cpu_s": used.platform,
                         "actions_cpu_s": used.actions})
    raw = pd.DataFrame(rows)
    table = medians(raw, ["variant"], ["invocations_per_s", "invoke_s", "all_results_s",
                                       "client_cpu_s", "platform_cpu_s", "actions_cpu_s"])
    by_variant = table.set_index("variant")
    speedup = ratio(by_variant.at["executor", "invocations_per_s"],
                    by_variant.at["one_by_one", "invocations_per_s"])
    all_results_s = by_variant.at["executor", "all_results_s"]
    save(ctx, NAME, raw, _plot(raw))
    return Outcome(
        NAME, f"Invocation throughput: {INVOCATIONS} no-op map invocations, warm platform",
        table,
        [Target("invocation throughput >= 10x one-after-another requests.post",
                f"{speedup:.1f}x", speedup >= 10),
         Target("1000 no-op map activations, first invoke to all results < 5 s",
                f"{all_results_s:.2f} s", all_results_s < 5)],
        [f"executor / one_by_one invocations per second: {speedup:.2f}x",
         "invoke_s: first request sent to last 202 received; all_results_s: the whole "
         "Executor.map call (invocations, waiting and recording)",
         "*_cpu_s: CPU seconds of this process (the client), the platform's server and the "
         f"action processes over each run (this machine has {os.cpu_count()} cores)"],
    )


def _plot(raw: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    for position, variant in enumerate(VARIANTS):
        values = raw.loc[raw["variant"] == variant, "invocations_per_s"]
        axes.bar(position, values.median(), color="tab:blue" if position == 0 else "tab:grey")
        axes.scatter([position] * len(values), values, color="black", s=12, zorder=3)
    axes.set_xticks(range(len(VARIANTS)), VARIANTS)
    axes.set_ylabel("invocations / s (bar: median, dots: runs)")
    axes.set_title(f"{INVOCATIONS} no-op map invocations")
    return figure
