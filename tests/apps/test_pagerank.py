"""pagerank in both modes matches NumPy's power iteration, and the check can fail."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from ow_apps import pagerank
from runner.apps import RunContext

PHASES = ["read_ms", "compute_ms", "comm_ms", "write_ms"]
SMALL = ["app=pagerank", "app.nodes=2000", "app.edges=20000", "app.tolerance=0.001",
         "app.iterations=30"]


@pytest.mark.parametrize("mode", ["burst", "map"])
def test_pagerank_matches_numpy(run_cli, data_dir, mode):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", *SMALL)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["valid"] == True, summary["validation"]  # noqa: E712
    iterations = int(re.search(r"after (\d+) iterations", summary["validation"]).group(1))
    assert 1 < iterations < 30, "the tolerance, not the cap, should end this run"
    workers = run.csv("workers.csv")
    assert (workers[PHASES] >= 0).all().all()
    assert (workers.groupby("stage")["edges"].sum() == 20000).all()
    stages = set(run.csv("activations.csv")["stage"])
    if mode == "burst":
        assert stages == {"burst"}
        assert set(workers["iterations"]) == {iterations}
    else:
        assert stages == {f"iteration-{i}" for i in range(iterations)}
    assert not any((data_dir / "pagerank" / "runs").iterdir()), "scratch left after validation"


@pytest.fixture
def answer(tmp_path: Path) -> tuple[pagerank.Params, RunContext, dict]:
    """NumPy's own ranks written where a run would leave them, kept after validation."""
    params = pagerank.Params(name="pagerank", nodes=500, edges=4000, keep_output=True)
    ctx = RunContext(2, "map", tmp_path)
    ranks, iterations = pagerank.reference(params, tmp_path)
    path = tmp_path / "scratch" / "ranks.f64"
    path.parent.mkdir()
    ranks.tofile(path)
    return params, ctx, {"ranks": str(path), "iterations": iterations}


def test_validator_accepts_numpys_ranks_and_removes_them(answer):
    params, ctx, result = answer
    params.keep_output = False
    verdict = pagerank.validate(params, ctx, result)
    assert verdict.valid, verdict.detail
    assert not Path(result["ranks"]).parent.exists()


def test_validator_rejects_perturbed_ranks(answer):
    params, ctx, result = answer
    ranks = np.fromfile(result["ranks"])
    ranks[7] *= 1 + 1e-6
    ranks.tofile(result["ranks"])
    verdict = pagerank.validate(params, ctx, result)
    assert not verdict.valid and "ranks differ" in verdict.detail, verdict.detail


def test_validator_rejects_another_iteration_count(answer):
    params, ctx, result = answer
    verdict = pagerank.validate(params, ctx, {**result, "iterations": result["iterations"] - 1})
    assert not verdict.valid and "iterations" in verdict.detail, verdict.detail


def test_validator_rejects_a_failed_run(answer):
    params, ctx, result = answer
    verdict = pagerank.validate(params, ctx, {**result, "iterations": None})
    assert not verdict.valid and "no final ranks" in verdict.detail
