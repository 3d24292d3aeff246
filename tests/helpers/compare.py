"""Run directories written the way the runner writes them, with known timings.

The comparison must not depend on the platform working, so these tests make
their own runs: Hydra's `.hydra/` files, activations.csv, workers.csv and a
summary.csv whose numbers follow from the CSVs like the runner's do.
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.image
import pandas as pd
import yaml

PROJECT = Path(__file__).resolve().parents[2]
EPOCH_MS = 1_764_400_000_000


@dataclass
class Run:
    """One fabricated run; `seed` makes its timings differ from its repeats'."""

    mode: str
    workers: int
    seed: int
    granularity: int | None = None
    app: str = "sleep"
    sleep_ms: int = 50
    extra_overrides: list[str] = field(default_factory=list)
    job: int | None = None
    parts: tuple[str, ...] = ("compute_ms", "comm_ms")
    failed_workers: tuple[int, ...] = ()

    @property
    def overrides(self) -> list[str]:
        given = [f"mode={self.mode}", f"workers={self.workers}", f"app={self.app}",
                 f"app.sleep_ms={self.sleep_ms}"]
        if self.granularity is not None:
            given.append(f"burst.granularity={self.granularity}")
        return given + self.extra_overrides


def _hydra_files(run_dir: Path, run: Run) -> None:
    hydra = run_dir / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(run.overrides))
    (hydra / "hydra.yaml").write_text(yaml.safe_dump({"hydra": {
        "mode": "RUN" if run.job is None else "MULTIRUN",
        "overrides": {"hydra": [], "task": run.overrides},
        "job": {"name": "__main__", "num": "???" if run.job is None else run.job,
                "override_dirname": ",".join(sorted(run.overrides))},
        "runtime": {"output_dir": str(run_dir), "choices": {"app": run.app, "platform": "local"}},
    }}))
    (hydra / "config.yaml").write_text(yaml.safe_dump({
        "platform": {"name": "local"}, "app": {"name": run.app, "sleep_ms": run.sleep_ms},
        "mode": run.mode, "workers": run.workers,
        "burst": {"granularity": run.granularity, "join": False, "backend": "local"},
        "build": {"cache_dir": "/tmp/cache"}, "data_dir": "/tmp/cache/data", "debug": False,
    }))


def _packs(run: Run) -> list[list[int]]:
    if run.mode == "map":
        return [[w] for w in range(run.workers)]
    size = run.granularity or run.workers
    return [list(range(first, min(first + size, run.workers)))
            for first in range(0, run.workers, size)]


def write_run(run_dir: Path, run: Run) -> Path:
    """Writes a finished run (failed if some workers are); returns its directory."""
    rng = random.Random(run.seed)
    _hydra_files(run_dir, run)
    t0 = EPOCH_MS + run.seed * 100_000
    activations, workers = [], []
    for pack, ids in enumerate(_packs(run)):
        submit = t0 + rng.randint(0, 30)
        start = submit + rng.randint(20, 400)
        end = start + run.sleep_ms + rng.randint(5, 60)
        activation_id = f"{run.seed:04x}{pack:028x}"
        activations.append({
            "stage": "main", "activation_id": activation_id,
            "kind": "map" if run.mode == "map" else "pack", "workers": len(ids),
            "submit_ms": submit, "accepted_ms": submit + 3, "start_ms": start, "end_ms": end,
            "duration_ms": end - start, "wait_ms": start - submit - 3, "init_ms": 12,
            "detected_ms": end + 7, "status": "success", "error": None})
        for worker_id in ids:
            worker_start = start + rng.randint(0, 5) * (run.mode == "burst")
            failed = worker_id in run.failed_workers
            row = {"stage": "main", "worker_id": worker_id, "activation_id": activation_id,
                   "pack": pack if run.mode == "burst" else None, "start_ms": worker_start,
                   "end_ms": end, "status": "application error" if failed else "success",
                   "error": "ZeroDivisionError: division by zero" if failed else None}
            row.update({part: round(rng.uniform(1, 40), 3) for part in run.parts})
            workers.append(row)
    frame_a, frame_w = pd.DataFrame(activations), pd.DataFrame(workers)
    frame_a.to_csv(run_dir / "activations.csv", index=False)
    frame_w.to_csv(run_dir / "workers.csv", index=False)
    pd.DataFrame([{
        "app": run.app, "mode": run.mode, "platform": "local", "workers": run.workers,
        "granularity": run.granularity if run.mode == "burst" else None,
        "backend": "local" if run.mode == "burst" else None,
        "makespan_ms": float(frame_a["end_ms"].max() - frame_a["submit_ms"].min()),
        "invoke_spread_ms": 0.0,
        "startup_spread_ms": float(frame_w["start_ms"].max() - frame_w["start_ms"].min()),
        "activations": len(frame_a), "failed": len(run.failed_workers), "build_ms": 2.5,
        "deploy_ms": 4.0,
        "run_ms": 700.0 + rng.uniform(0, 100), "validate_ms": 0.1,
        "total_ms": round(900.0 + rng.uniform(0, 300), 3), "build_cache": "hit",
        "platform_address": "http://127.0.0.1:40000", "deployed": "unchanged", "requests": 9,
        "valid": not run.failed_workers, "validation": "all slept",
        "status": "failed" if run.failed_workers else "ok", "message": "all slept",
    }]).to_csv(run_dir / "summary.csv", index=False)
    return run_dir


def write_config_error(run_dir: Path, run: Run, message: str) -> Path:
    """A job the runner refused before running: `.hydra/` and error.txt, no CSVs."""
    _hydra_files(run_dir, run)
    (run_dir / "error.txt").write_text(f"config error: {message}\n")
    return run_dir


def write_sweep(root: Path, runs: list[Run]) -> Path:
    """A sweep root as Hydra leaves it: multirun.yaml and one `<num>_<overrides>` dir per job."""
    root.mkdir(parents=True)
    (root / "multirun.yaml").write_text(yaml.safe_dump({"hydra": {"mode": "MULTIRUN"}}))
    for number, run in enumerate(runs):
        run.job = number
        write_run(root / f"{number}_{','.join(sorted(run.overrides))}", run)
    return root


def run_compare(*args: str, cwd: Path = PROJECT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "runner.compare", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def read_summaries(root: Path) -> pd.DataFrame:
    """Every summary.csv under root, with its run directory, as one DataFrame."""
    frames = [pd.read_csv(path).assign(run=str(path.parent))
              for path in sorted(root.rglob("summary.csv"))]
    return pd.concat(frames, ignore_index=True)


def assert_picture(path: Path) -> None:
    """A PNG that shows something: pixels, and more than one colour."""
    image = matplotlib.image.imread(path)
    assert image.size > 0
    assert (image != image[0, 0]).any(), f"{path.name} is a single colour"
