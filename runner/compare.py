"""`python -m runner.compare DIR... [--by KEY,...] [--metric NAME,...] [--out DIR]`.

Prints the comparison of the runs under the given directories and writes it,
with its figures, to `--out` (see runner/analysis/compare.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from runner.analysis import sweep
from runner.analysis.compare import (
    DEFAULT_METRICS,
    CompareError,
    aggregate,
    choose,
    expand,
    find_runs,
    format_table,
    run_labels,
    run_table,
    varied_keys,
    write_figures,
)
from runner.rundir import files


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runner.compare",
        description="Join runs into one table of medians over repeats, with figures.")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run or sweep directories, globs")
    parser.add_argument("--by", help="group by these keys (comma-separated) instead of the "
                                     "keys that vary between runs")
    parser.add_argument("--metric", help=f"metrics to report; default {','.join(DEFAULT_METRICS)}")
    parser.add_argument("--out", type=Path, help="where comparison.csv and the figures go; "
                        "default: the first DIR if it is a sweep, else outputs/compare/<time>")
    return parser.parse_args(argv)


def compare(args: argparse.Namespace) -> None:
    paths = expand(args.dirs)
    runs = find_runs(paths)
    notes = [f"wrote {sweep.write_sweep_summary(path)}" for path in paths
             if files.is_sweep_root(path)]
    keys = sweep.config_keys(runs)
    table = run_table(runs, keys)
    by = choose(args.by, list(table.columns), [], "key") or varied_keys(table, keys) or [
        key for key in ["app", "mode", "workers"] if key in table] or ["run"]
    present = [metric for metric in DEFAULT_METRICS if metric in table]
    metrics = choose(args.metric, list(table.columns), present, "metric")
    if not metrics:
        raise CompareError(f"the runs have none of the metrics {', '.join(DEFAULT_METRICS)} "
                           "(no summary.csv?)")
    out = args.out or (paths[0] if files.is_sweep_root(paths[0]) else
                       Path("outputs", "compare", datetime.now().strftime("%Y-%m-%d_%H-%M-%S")))
    out.mkdir(parents=True, exist_ok=True)
    summary = aggregate(table, by, metrics)
    print(f"{len(runs)} runs; median [min, max] over the runs of each group")
    print(format_table(summary, by, metrics))
    summary.to_csv(out / "comparison.csv", index=False)
    table.to_csv(out / "runs.csv", index=False)
    notes += [f"wrote {out / 'comparison.csv'}", f"wrote {out / 'runs.csv'}"]
    notes += write_figures(table, run_labels(table, by), out)
    print("\n".join(notes))


def main(argv: list[str] | None = None) -> int:
    try:
        compare(_arguments(argv))
    except CompareError as error:
        print(f"compare: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
