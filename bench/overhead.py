"""Benchmark 6: what the runner costs around an experiment, for one run and in a sweep.

- `process`: a whole `python -m runner mode=map workers=100 app=hello`, from exec
  to exit, against the run's own `run_ms` (invoke to last result).
- `sweep`: a sweep of 16 `hello` jobs (`-m mode=map,burst workers=4,8 repeat=4`);
  a job's wall time is the time between its summary and the previous job's
  (Hydra's job setup included), its overhead that minus its `run_ms`.
- the costs the runner avoids on a run's path, timed alone: importing pandas,
  importing matplotlib and drawing a timeline, starting the embedded platform.

`--baseline REV` runs the same measurements, interleaved, on the code of a git
revision (exported into the scratch directory), so before and after are side
by side in one run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .common import PROJECT, BenchError, Context, Outcome, Target, interleaved, save

NAME = "overhead"
PROCESS = ["mode=map", "workers=100", "app=hello"]
SWEEP = ["-m", "mode=map,burst", "workers=4,8", "repeat=4", "app=hello"]
PROCESS_GOAL_S = 1.0
JOB_GOAL_MS = 100.0
ALONE = {
    "import pandas": "import pandas",
    "import matplotlib + draw a timeline": (
        "from pathlib import Path; import sys; from runner.analysis.plots import timeline; "
        "timeline(Path(sys.argv[1]), Path(sys.argv[2]))"),
    "start and stop the platform": (
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-m', "
        "'runner.platform', '--port', '0', '--exit-with-stdin'], stdin=subprocess.PIPE, "
        "stdout=subprocess.PIPE, stderr=subprocess.DEVNULL); p.stdout.readline(); "
        "p.stdout.readline(); p.stdin.close(); p.wait()"),
}


def _export(revision: str, into: Path) -> Path:
    """The project's files at `revision`, unpacked into `into` (the runner runs from there)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=PROJECT,
                             capture_output=True)
    if archive.returncode != 0:
        raise BenchError(f"git archive {revision}: {archive.stderr.decode().strip()}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


# `python -m runner` with only `code`'s packages: an editable install of this project
# maps `runner`, `ow_apps` and the namespace package `hydra_plugins` to the working
# tree, which would hand a baseline this tree's Hydra plugins too. Both codes start so.
OWN_PACKAGES_ONLY = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in repr(f)]; "
    "sys.path[:] = [p for p in sys.path if '__editable__' not in p]; "
    "sys.argv[0] = 'runner'; runpy.run_module('runner', run_name='__main__', alter_sys=True)")


def _runner(code: Path, args: list[str], cwd: Path) -> float:
    """Wall seconds of one `python -m runner` whose code is `code` (and no other copy)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", OWN_PACKAGES_ONLY, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(code)})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BenchError(f"python -m runner {' '.join(args)} exited {done.returncode}: {last}")
    return seconds


def _process(code: Path, scratch: Path, label: str) -> dict[str, float]:
    run_dir = scratch / label
    seconds = _runner(code, [*PROCESS, f"hydra.run.dir={run_dir}"], scratch)
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    return {"process_s": seconds, "run_ms": float(summary["run_ms"]),
            "total_ms": float(summary["total_ms"])}


def _sweep(code: Path, scratch: Path, label: str) -> dict[str, float]:
    sweep_dir = scratch / label
    seconds = _runner(code, [*SWEEP, f"hydra.sweep.dir={sweep_dir}"], scratch)
    summaries = sorted(sweep_dir.glob("*/summary.csv"), key=lambda path: path.stat().st_mtime)
    ends = [path.stat().st_mtime for path in summaries]
    runs = [float(pd.read_csv(path)["run_ms"].iloc[0]) for path in summaries]
    overheads = [(end - before) * 1000 - run for before, end, run in
                 zip(ends, ends[1:], runs[1:], strict=False)]
    return {"sweep_s": seconds, "jobs": len(summaries),
            "job_overhead_ms": statistics.median(overheads),
            "job_run_ms": statistics.median(runs)}


def _alone(code: Path, scratch: Path, timeline_of: Path) -> dict[str, float]:
    row = {}
    for name, script in ALONE.items():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", script, str(timeline_of), str(scratch / "t.png")],
                       cwd=scratch, check=True, capture_output=True,
                       env={**os.environ, "PYTHONPATH": str(code)})
        row[name] = (time.perf_counter() - started) * 1000
    return row


def run(ctx: Context) -> Outcome:
    scratch = ctx.scratch(NAME)
    codes = {"now": PROJECT}
    if ctx.baseline:
        codes[f"at {ctx.baseline}"] = _export(ctx.baseline, scratch / "baseline-code")
    rows = []
    for rep, version in interleaved(ctx.repetitions(), list(codes)):
        label = f"{version.replace(' ', '_')}_r{rep}"
        row = {"code": version, "rep": rep,
               **_process(codes[version], scratch, f"process_{label}"),
               **_sweep(codes[version], scratch, f"sweep_{label}")}
        rows.append(row)
    raw = pd.DataFrame(rows)
    alone = _alone(PROJECT, scratch, scratch / "process_now_r0")
    table = raw.drop(columns="rep").groupby("code", sort=False).median().reset_index()
    now = table[table["code"] == "now"].iloc[0]
    save(ctx, NAME, raw, _plot(table))
    return Outcome(
        NAME, "Runner overhead: one process, and per job in a sweep of 16 hello jobs", table,
        [Target(f"`python -m runner {' '.join(PROCESS)}` as a whole process < "
                f"{PROCESS_GOAL_S:.0f} s", f"{now['process_s']:.2f} s",
                now["process_s"] < PROCESS_GOAL_S),
         Target(f"sweep of 16 hello jobs: per-job overhead (job wall - run_ms) <= "
                f"{JOB_GOAL_MS:.0f} ms median", f"{now['job_overhead_ms']:.0f} ms",
                now["job_overhead_ms"] <= JOB_GOAL_MS)],
        ["process_s: exec to exit; run_ms/total_ms: the run's own summary columns",
         "job_overhead_ms: time between consecutive jobs' summaries minus the later job's "
         "run_ms (median over jobs 2..16)",
         "kept off a run's path, timed alone here: " + "; ".join(
             f"{name} {ms:.0f} ms" for name, ms in alone.items())],
    )


def _plot(table: pd.DataFrame) -> Figure:
    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    left.bar(table["code"], table["process_s"], color="C0", label="whole process")
    left.bar(table["code"], table["run_ms"] / 1000, color="C1", label="run_ms")
    left.axhline(PROCESS_GOAL_S, color="0.3", linestyle="--", label="goal")
    left.set_ylabel("seconds (median)")
    left.set_title(f"python -m runner {' '.join(PROCESS)}", fontsize=9)
    left.legend(fontsize=8)
    right.bar(table["code"], table["job_overhead_ms"], color="C2")
    right.axhline(JOB_GOAL_MS, color="0.3", linestyle="--", label="goal")
    right.set_ylabel("per-job overhead, ms (median)")
    right.set_title("sweep of 16 hello jobs", fontsize=9)
    right.legend(fontsize=8)
    figure.suptitle("What the runner costs around an experiment")
    return figure
