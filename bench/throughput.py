"""Benchmark 1: how fast map invocations leave the client.

Ours is `Executor.map` itself: a thread pool over one pooled `OpenWhiskClient`,
with the bulk poller running alongside as in a real run. The baseline is the
original client's way: one plain `requests.post` after another, each on a new
connection; a kinder one sends them one after another over one kept-alive
connection. All send the same no-op invocations to the same warm platform.
The invocation phase runs from the first request sent to the last 202
received (client clock); ours also reports when every result was in hand.

Both run twice: on loopback, where a request costs only CPU and two cores
bound what concurrency can gain, and through a relay that adds a network's
round trip (`latency_proxy`), as between a client and a cluster.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pandas as pd
import requests
from matplotlib.figure import Figure

from runner.client.openwhisk import OpenWhiskClient

from . import cpu, embedded, latency_proxy
from .common import BenchError, Context, Outcome, Target, interleaved, medians, ratio, save

NAME = "throughput"
INVOCATIONS = 1000
VARIANTS = ("executor", "one_by_one", "one_by_one_keepalive")
# Round-trip times added between client and platform: none (loopback), and a cluster a
# few hops away (same region; from a campus to a cloud region it is often 20-50 ms).
NETWORKS = {"loopback": 0.0, "rtt_10ms": 10.0}


def _executor(platform: embedded.Platform, ctx: Context, rep: str) -> dict[str, float]:
    run = embedded.map_run(platform, [{}] * INVOCATIONS, ctx.scratch(NAME) / f"executor-{rep}")
    invoke_s = (run.activations["accepted_ms"].max() - run.activations["submit_ms"].min()) / 1000
    return {"invoke_s": invoke_s, "all_results_s": run.elapsed_s}


def _one_by_one(platform: embedded.Platform, ctx: Context, rep: str) -> dict[str, float]:
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


def _one_by_one_keepalive(platform: embedded.Platform, ctx: Context,
                          rep: str) -> dict[str, float]:
    """A kinder baseline: one after another, but over the runner's pooled connection."""
    since_ms = int(time.time() * 1000)
    started = time.perf_counter()
    ids = [platform.client.invoke(platform.action, {"worker_id": worker_id})
           for worker_id in range(INVOCATIONS)]
    invoke_s = time.perf_counter() - started
    embedded.settle(platform, ids, since_ms)
    return {"invoke_s": invoke_s, "all_results_s": float("nan")}


MEASURE = {"executor": _executor, "one_by_one": _one_by_one,
           "one_by_one_keepalive": _one_by_one_keepalive}


@contextmanager
def _reached(platform: embedded.Platform, rtt_ms: float) -> Iterator[embedded.Platform]:
    """The platform as a client `rtt_ms` away sees it: the same one, through a relay."""
    if not rtt_ms:
        yield platform
        return
    with latency_proxy.started(platform.client.host, rtt_ms) as url:
        user, key = platform.client.session.auth
        client = OpenWhiskClient(url, f"{user}:{key}", pool_size=platform.concurrency + 1)
        try:
            yield dataclasses.replace(platform, client=client)
        finally:
            client.close()


def run(ctx: Context) -> Outcome:
    rows = []
    with ExitStack() as stack:
        platform = stack.enter_context(
            embedded.started(ctx.scratch(NAME), embedded.NOOP_ACTION, "noop"))
        # Cold starts belong to another benchmark: fill the warm pool first.
        embedded.map_run(platform, [{}] * INVOCATIONS, ctx.scratch(NAME) / "warmup")
        platform_pid = cpu.platform_pid()
        views = {network: stack.enter_context(_reached(platform, rtt_ms))
                 for network, rtt_ms in NETWORKS.items()}
        plan = [(network, variant) for network in NETWORKS for variant in VARIANTS]
        for rep, (network, variant) in interleaved(ctx.repetitions(), plan):
            before = cpu.sample(platform_pid)
            measured = MEASURE[variant](views[network], ctx, f"{network}-{rep}")
            used = cpu.sample(platform_pid) - before
            rows.append({"network": network, "variant": variant, "rep": rep,
                         "invocations": INVOCATIONS, **measured,
                         "invocations_per_s": INVOCATIONS / measured["invoke_s"],
                         "client_cpu_s": used.client, "platform_cpu_s": used.platform,
                         "actions_cpu_s": used.actions})
    raw = pd.DataFrame(rows)
    keys = ["network", "variant"]
    table = medians(raw, keys, ["invocations_per_s", "invoke_s", "all_results_s",
                                "client_cpu_s", "platform_cpu_s", "actions_cpu_s"])
    table = table.sort_values(keys, kind="stable").reset_index(drop=True)
    by_key = table.set_index(keys)
    targets, notes = [], []
    for network, rtt_ms in NETWORKS.items():
        speedup = ratio(by_key.at[(network, "executor"), "invocations_per_s"],
                        by_key.at[(network, "one_by_one"), "invocations_per_s"])
        where = "loopback" if not rtt_ms else f"{rtt_ms:g} ms round trip"
        targets.append(Target(f"invocation throughput >= 10x one-after-another requests.post, "
                              f"{where}", f"{speedup:.1f}x", speedup >= 10))
        kept_alive = ratio(by_key.at[(network, "executor"), "invocations_per_s"],
                           by_key.at[(network, "one_by_one_keepalive"), "invocations_per_s"])
        notes.append(f"{where}: executor / one_by_one invocations per second: {speedup:.2f}x; "
                     f"executor / one_by_one_keepalive: {kept_alive:.2f}x")
    all_results_s = by_key.at[("loopback", "executor"), "all_results_s"]
    targets.append(Target("1000 no-op map activations, first invoke to all results < 5 s",
                          f"{all_results_s:.2f} s", all_results_s < 5))
    save(ctx, NAME, raw, _plot(raw))
    return Outcome(
        NAME, f"Invocation throughput: {INVOCATIONS} no-op map invocations, warm platform",
        table, targets,
        [*notes,
         "invoke_s: first request sent to last 202 received; all_results_s: the whole "
         "Executor.map call (invocations, waiting and recording)",
         "rtt_10ms: through bench/latency_proxy.py, which delays each direction by half the "
         "round trip and each new connection by a whole one; its own CPU is not counted",
         "*_cpu_s: CPU seconds of this process (the client), the platform's server and the "
         f"action processes over each run (this machine has {os.cpu_count()} cores)"],
    )


def _plot(raw: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(9, 4))
    axes = figure.subplots()
    labels = []
    for position, (network, variant) in enumerate(
            (network, variant) for network in NETWORKS for variant in VARIANTS):
        values = raw.loc[(raw["network"] == network) & (raw["variant"] == variant),
                         "invocations_per_s"]
        axes.bar(position, values.median(),
                 color="tab:blue" if variant == "executor" else "tab:grey")
        axes.scatter([position] * len(values), values, color="black", s=12, zorder=3)
        labels.append(f"{variant}\n{network}".replace("_keepalive", "\nkeepalive"))
    axes.set_xticks(range(len(labels)), labels, fontsize=8)
    axes.set_yscale("log")
    axes.set_ylabel("invocations / s (log; bar: median, dots: runs)")
    axes.set_title(f"{INVOCATIONS} no-op map invocations")
    figure.tight_layout()
    return figure
