"""kmeans, terasort and pagerank in Rust through the real command line, embedded platform and
cargo build: the Python apps' checks must pass on the Rust workers' answers, with their phases.

Sizes are small so that each run takes seconds; the Rust builds are cached for the whole test run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGERANK = ["app=pagerank", "app.lang=rust", "app.nodes=2000", "app.edges=20000",
            "app.tolerance=0.001", "app.iterations=30"]
PHASES = ["read_ms", "compute_ms", "comm_ms", "write_ms"]
KMEANS = ["app=kmeans", "app.lang=rust", "app.points=6000", "app.dims=4", "app.k=4",
          "app.iterations=6"]


@pytest.mark.parametrize("mode", ["burst", "map"])
def test_kmeans_in_rust_matches_numpy(run_cli, mode):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", *KMEANS)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"] == True, summary  # noqa: E712
    assert "centroids match NumPy" in summary["validation"]
    workers = run.csv("workers.csv")
    assert (workers["status"] == "success").all()
    assert (workers["read_ms"] >= 0).all() and (workers["compute_ms"] > 0).all()
    stages = set(run.csv("activations.csv")["stage"])
    if mode == "burst":
        assert stages == {"burst"} and run.summary["activations"] == 2
        assert (workers["comm_ms"] > 0).all()
        assert sorted(workers["points"]) == [1500] * 4
        assert workers["iterations"].nunique() == 1
    else:
        assert len(stages) >= 2 and all(stage.startswith("iteration-") for stage in stages)


@pytest.mark.parametrize("mode, stages", [("burst", {"burst"}), ("map", {"map", "reduce"})])
def test_terasort_in_rust_passes_teravalidate(run_cli, data_dir, mode, stages):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", "app=terasort",
                  "app.lang=rust", "app.size_mb=1")
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"] == True, summary  # noqa: E712
    assert "10000 records sorted in 4 parts, checksum matches" in summary["validation"]
    workers = run.csv("workers.csv")
    assert (workers["status"] == "success").all()
    assert (workers[PHASES] >= 0).all().all() and (workers["compute_ms"] > 0).all()
    assert (workers.groupby("stage")["records"].sum() == 10000).all()
    assert set(run.csv("activations.csv")["stage"]) == stages
    if mode == "burst":
        assert (workers["comm_ms"] > 0).all() and (workers["write_ms"] > 0).all()
    else:
        reducers = workers[workers["stage"] == "reduce"]
        assert (reducers["write_ms"] > 0).all() and (reducers["comm_ms"] > 0).all()
    assert not any((data_dir / "terasort" / "runs").iterdir()), "scratch left after validation"


@pytest.mark.parametrize("mode", ["burst", "map"])
def test_pagerank_in_rust_matches_numpy(run_cli, data_dir, mode):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", *PAGERANK)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"] == True, summary  # noqa: E712
    iterations = int(re.search(r"after (\d+) iterations", summary["validation"]).group(1))
    assert 1 < iterations < 30, "the tolerance, not the cap, should end this run"
    workers = run.csv("workers.csv")
    assert (workers["status"] == "success").all()
    assert (workers[PHASES] >= 0).all().all() and (workers["comm_ms"] > 0).all()
    assert (workers.groupby("stage")["edges"].sum() == 20000).all()
    stages = set(run.csv("activations.csv")["stage"])
    if mode == "burst":
        assert stages == {"burst"} and set(workers["iterations"]) == {iterations}
        writers = workers.loc[workers["write_ms"] > 0, "worker_id"]
        assert writers.tolist() == [0], "worker 0 alone writes the ranks"
    else:
        assert stages == {f"iteration-{i}" for i in range(iterations)}
    assert not any((data_dir / "pagerank" / "runs").iterdir()), "scratch left after validation"


# module -> the apps whose map crate (rust/) and burst crate (rust_burst/) both hold a copy
SHARED = {"storage.rs": ["kmeans", "terasort", "pagerank"], "partition.rs": ["kmeans"],
          "phases.rs": ["terasort", "pagerank"], "records.rs": ["terasort"],
          "powerstep.rs": ["pagerank"]}


@pytest.mark.parametrize("module", sorted(SHARED))
def test_a_module_shared_by_rust_crates_is_the_same_file_in_each(module):
    """Each crate is self-contained (the fork builds it alone), so a shared module is a copy."""
    paths = [ROOT / "ow_apps" / app / crate / "src" / module
             for app in SHARED[module] for crate in ("rust", "rust_burst")]
    texts = {path.relative_to(ROOT).as_posix(): path.read_text() for path in paths}
    first = next(iter(texts.values()))
    assert [name for name, text in texts.items() if text != first] == []


def test_ready_rust_vs_python_sweep_runs_each_language_in_each_mode(tmp_path, cache_dir,
                                                                     data_dir):
    """`+experiment=rust_vs_python`, narrowed to one app and one size on the command line."""
    sweep_dir = tmp_path / "sweep"
    completed = subprocess.run(
        [sys.executable, "-m", "runner", "-m", "+experiment=rust_vs_python", "app=kmeans",
         "workers=2", *KMEANS[2:], f"hydra.sweep.dir={sweep_dir}",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    rows = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert sorted(zip(rows["app.lang"], rows["mode"], strict=True)) == [
        ("python", "burst"), ("python", "map"), ("rust", "burst"), ("rust", "map")]
    assert (rows["status"] == "ok").all() and rows["valid"].all()
