"""Benchmark 4: how fast a burst gets all its workers running, by workers per pack.

Real CLI runs of `app=sleep` (short sleeps, so startup dominates), each in a
fresh process with a freshly started embedded platform, i.e. cold containers
as a user's first run sees them. For each size: bursts at every granularity,
the same workers as a map for reference, and (at 32 workers) the `hello` burst
in one pack that the project's startup target names.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from .cli import run_cli
from .common import Context, Outcome, Target, interleaved, medians, save

NAME = "startup"
SLEEP_MS = 100
SIZES = (32, 128)
GRANULARITIES = (1, 2, 4, 8, 16, 32)
ONE_PACK_APP = "hello"


def _variants(workers: int) -> list[tuple[str, str, int | None]]:
    """(app, mode, granularity) of each run at this size; None = the platform's one pack."""
    variants: list[tuple[str, str, int | None]] = [
        ("sleep", "burst", g) for g in GRANULARITIES if g <= workers
    ]
    variants.append(("sleep", "map", None))
    if workers == 32:
        variants.append((ONE_PACK_APP, "burst", None))
    return variants


def _overrides(workers: int, app: str, mode: str, granularity: int | None) -> list[str]:
    overrides = [f"mode={mode}", f"workers={workers}", f"app={app}"]
    if app == "sleep":
        overrides.append(f"app.sleep_ms={SLEEP_MS}")
    return overrides + ([f"burst.granularity={granularity}"] if granularity else [])


def run(ctx: Context) -> Outcome:
    scratch = ctx.scratch(NAME)
    plan = [(workers, *variant) for workers in SIZES for variant in _variants(workers)]
    rows = []
    for rep, (workers, app, mode, granularity) in interleaved(ctx.repetitions(), plan):
        label = f"w{workers}_{app}_{mode}" + (f"_g{granularity}" if granularity else "")
        result = run_cli(_overrides(workers, app, mode, granularity), scratch / f"{label}_r{rep}")
        rows.append({
            "workers": workers, "app": app, "mode": mode, "granularity": granularity,
            "rep": rep, "packs": len(result.activations),
            "to_last_start_ms": result.to_last_start_ms,
            "startup_spread_ms": result.summary["startup_spread_ms"],
            "makespan_ms": result.summary["makespan_ms"],
            "total_ms": result.summary["total_ms"],
        })
    raw = pd.DataFrame(rows)
    raw["granularity"] = raw["granularity"].astype("Int64")
    table = medians(raw, ["workers", "app", "mode", "granularity"],
                    ["packs", "to_last_start_ms", "startup_spread_ms", "makespan_ms", "total_ms"])
    table = table.sort_values(["workers"], kind="stable").reset_index(drop=True)
    save(ctx, NAME, raw, _plot(table))
    hello = table[table["app"] == ONE_PACK_APP].iloc[0]
    return Outcome(
        NAME, f"Burst startup: sleep_ms={SLEEP_MS} (and hello), cold platform per run (CLI)",
        table,
        [Target("burst of 32 hello workers in one pack: invoke to last worker start < 0.5 s",
                f"{hello['to_last_start_ms']:.0f} ms", hello["to_last_start_ms"] < 500),
         Target("burst of 32 hello workers in one pack: start spread < 50 ms",
                f"{hello['startup_spread_ms']:.0f} ms", hello["startup_spread_ms"] < 50)],
        ["to_last_start_ms: first invocation sent to the last worker's start; "
         "startup_spread_ms: last worker start minus first (workers.csv start_ms)",
         "granularity '-': map, or (hello) no granularity, i.e. all workers in one pack: "
         "`python -m runner mode=burst workers=32 app=hello`"],
    )


def _plot(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(11, 4))
    panels = figure.subplots(1, 2)
    metrics = (("to_last_start_ms", "invoke to last worker start (ms)"),
               ("startup_spread_ms", "start spread (ms)"))
    for axes, (metric, label) in zip(panels, metrics, strict=True):
        for workers, rows in table.groupby("workers"):
            bursts = rows[(rows["mode"] == "burst") & (rows["app"] == "sleep")]
            line = axes.plot(bursts["granularity"].astype(int), bursts[metric], marker="o",
                             label=f"burst, {workers} workers")[0]
            reference = rows.loc[rows["mode"] == "map", metric]
            axes.axhline(reference.iloc[0], linestyle="--", color=line.get_color(),
                         label=f"map, {workers} workers")
        axes.set_xscale("log", base=2)
        axes.set_xlabel("workers per pack (granularity)")
        axes.set_ylabel(f"{label}, median")
        axes.legend(fontsize=8)
    figure.suptitle(f"Burst startup, sleep {SLEEP_MS} ms, cold platform per run")
    return figure
