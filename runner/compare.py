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
    FORMATS,
    CompareError,
    choose,
    compare_runs,
    format_table,
    write,
)
from runner.analysis.runs import expand
from runner.rundir import files


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runner.compare",
        description="Join runs into one table of medians over repeats, with figures.")
    parser.add_argument("dirs", nargs="+", metavar="DIR", help="run or sweep directories, globs")
    parser.add_argument("--by", help="group by these keys (comma-separated) instead of the "
                                     "keys that vary between runs")
    parser.add_argument("--metric", help=f"metrics to report; default {','.join(DEFAULT_METRICS)}"
                                         "; summary.csv or workers.csv columns")
    parser.add_argument("--include-failed", action="store_true",
                        help="count runs whose status is not ok in the medians too")
    parser.add_argument("--format", default="png",
                        help=f"figure formats, comma-separated: {','.join(FORMATS)}")
    parser.add_argument("--out", type=Path, help="where comparison.csv and the figures go; "
                        "default: the first DIR if it is a sweep, else outputs/compare/<time>")
    return parser.parse_args(argv)


def compare(args: argparse.Namespace) -> None:
    formats = choose(args.format, FORMATS, ["png"], "format")
    paths = expand(args.dirs)
    comparison = compare_runs(paths, args.by, args.metric, args.include_failed)
    notes = [f"wrote {sweep.write_sweep_summary(path)}" for path in paths
             if files.is_sweep_root(path)]
    out = args.out or (paths[0] if files.is_sweep_root(paths[0]) else
                       Path("outputs", "compare", datetime.now().strftime("%Y-%m-%d_%H-%M-%S")))
    print(format_table(comparison), flush=True)
    notes += write(comparison, out, formats)
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
