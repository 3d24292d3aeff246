"""``python -m bench``: run the benchmarks, print their tables, write CSV, PNG and a report.

    python -m bench                      # short default (what `make bench` runs)
    python -m bench --full               # more repetitions and the larger sizes
    python -m bench --only detection,startup --reps 5

Each benchmark writes ``<name>.csv`` (one row per repetition) and ``<name>.png``
into ``outputs/bench/<timestamp>/``; ``report.md`` there gathers the tables,
the targets and the machine, ready to paste into docs/performance.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pandas as pd

from . import (
    detection,
    kmeans_e2e,
    overhead,
    packs,
    rust_middleware,
    rust_vs_python,
    startup,
    throughput,
    vs_lithops,
)
from .common import PROJECT, BenchError, Context, Outcome, Target, machine, markdown

BENCHMARKS: dict[str, Callable[[Context], Outcome]] = {
    throughput.NAME: throughput.run,
    detection.NAME: detection.run,
    vs_lithops.NAME: vs_lithops.run,
    startup.NAME: startup.run,
    kmeans_e2e.NAME: kmeans_e2e.run,
    overhead.NAME: overhead.run,
    rust_middleware.NAME: rust_middleware.run,
    packs.NAME: packs.run,
    rust_vs_python.NAME: rust_vs_python.run,
}
# The middleware benchmark is a script with its own CLI (bench/middleware.py); it runs last.
MIDDLEWARE = "middleware"
MIDDLEWARE_SCRIPT = Path(__file__).parent / "middleware.py"
NAMES = [*BENCHMARKS, MIDDLEWARE]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="more repetitions and larger sizes (tens of minutes)")
    parser.add_argument("--only", type=lambda text: text.split(","), default=NAMES,
                        metavar="NAME[,NAME]", help=f"run only these: {', '.join(NAMES)}")
    parser.add_argument("--reps", type=int,
                        help="repetitions per variant (default 3, lithops 2; --full 5)")
    parser.add_argument("--baseline", metavar="REV",
                        help="overhead: also measure the code of this git revision, side by side")
    parser.add_argument("--out", type=Path, default=PROJECT / "outputs" / "bench",
                        help="parent of the timestamped output directory")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.only) - set(NAMES))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
    if args.reps is not None and args.reps < 1:
        parser.error("--reps must be at least 1")
    return args


def run_middleware(ctx: Context) -> Outcome:
    """Runs bench/middleware.py through its own CLI, its output streamed through."""
    if not MIDDLEWARE_SCRIPT.is_file():
        return Outcome(MIDDLEWARE, "Burst middleware throughput", pd.DataFrame(),
                       notes=[f"{MIDDLEWARE_SCRIPT.relative_to(PROJECT)} does not exist yet: "
                              "skipped"])
    command = [sys.executable, str(MIDDLEWARE_SCRIPT), "--out", str(ctx.out_dir / MIDDLEWARE)]
    if ctx.full:
        command.append("--full")
    done = subprocess.run(command, cwd=PROJECT)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited with {done.returncode}")
    written = sorted((ctx.out_dir / MIDDLEWARE).rglob("*.*"))
    return Outcome(MIDDLEWARE, "Burst middleware throughput", pd.DataFrame(),
                   notes=[f"written by {MIDDLEWARE_SCRIPT.name}: {path.relative_to(ctx.out_dir)}"
                          for path in written])


def report(ctx: Context, command: str, outcomes: list[Outcome], seconds: dict[str, float]) -> str:
    lines = ["# Benchmark report", "", f"Command: `{command}`", ""]
    lines += [f"- {key}: {value}" for key, value in machine().items()]
    for outcome in outcomes:
        lines += ["", f"## {outcome.title}", "", f"`{outcome.name}`, "
                  f"{seconds[outcome.name]:.0f} s", ""]
        if len(outcome.table):
            lines += [markdown(outcome.table), ""]
        lines += [f"- {note}" for note in outcome.notes]
    lines += ["", "## Targets", "", markdown(targets_table(outcomes)), ""]
    return "\n".join(lines)


def targets_table(outcomes: list[Outcome]) -> pd.DataFrame:
    rows = [
        {"benchmark": outcome.name, "target": target.goal, "measured": target.measured,
         "met": _verdict(target)}
        for outcome in outcomes for target in outcome.targets
    ]
    return pd.DataFrame(rows, columns=["benchmark", "target", "measured", "met"])


def _verdict(target: Target) -> str:
    return "n/a" if target.met is None else ("yes" if target.met else "NO")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    out_dir = args.out / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(out_dir, args.full, args.reps, args.baseline)
    runners = {**BENCHMARKS, MIDDLEWARE: run_middleware}
    outcomes: list[Outcome] = []
    seconds: dict[str, float] = {}
    failed = []
    for name in [name for name in NAMES if name in args.only]:
        print(f"\n== {name} ==", flush=True)
        started = time.monotonic()
        try:
            outcome = runners[name](ctx)
        except Exception as error:  # one broken benchmark must not cost the others' figures
            outcome = Outcome(name, name, pd.DataFrame(),
                              notes=[f"FAILED: {type(error).__name__}: {error}"])
            failed.append(name)
        seconds[name] = time.monotonic() - started
        outcomes.append(outcome)
        print(f"\n{outcome.title} ({seconds[name]:.0f} s)")
        if len(outcome.table):
            print(markdown(outcome.table))
        for note in outcome.notes:
            print(f"  {note}")
        print(flush=True)
    command = " ".join(["python -m bench", *argv])
    (out_dir / "report.md").write_text(report(ctx, command, outcomes, seconds))
    targets_table(outcomes).to_csv(out_dir / "targets.csv", index=False)
    print("Targets")
    print(markdown(targets_table(outcomes)))
    print(f"\n{sum(seconds.values()):.0f} s in all; report: {out_dir / 'report.md'}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
