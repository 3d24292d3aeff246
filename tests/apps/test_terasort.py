"""terasort sorts TeraGen's records in both modes, and its TeraValidate-style check can fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ow_apps import terasort
from ow_apps.terasort.teraformat import RECORD, part_path, sort_by_key
from runner.apps import RunContext

PHASES = ["read_ms", "compute_ms", "comm_ms", "write_ms"]
PARTS = 3


@pytest.mark.parametrize("mode, stages", [("burst", {"burst"}), ("map", {"map", "reduce"})])
def test_terasort_output_passes_teravalidate(run_cli, data_dir, mode, stages):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", "app=terasort",
                  "app.size_mb=1")
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["valid"] == True, summary["validation"]  # noqa: E712
    assert "10000 records sorted in 4 parts" in summary["validation"]
    workers = run.csv("workers.csv")
    assert (workers[PHASES] >= 0).all().all()
    assert (workers.groupby("stage")["records"].sum() == 10000).all()
    assert set(run.csv("activations.csv")["stage"]) == stages
    assert not any((data_dir / "terasort" / "runs").iterdir()), "scratch left after validation"


@pytest.fixture
def output(tmp_path: Path) -> tuple[terasort.Params, RunContext, Path]:
    """A correct output of 3 parts for 1 MB of input, kept after validation."""
    params = terasort.Params(name="terasort", size_mb=1, keep_output=True)
    ctx = RunContext(PARTS, "map", tmp_path)
    path, _ = terasort.dataset(params, tmp_path)
    scratch = tmp_path / "scratch"
    for reducer, part in enumerate(np.array_split(sort_by_key(np.fromfile(path, RECORD)), PARTS)):
        part_path(scratch, reducer).parent.mkdir(parents=True, exist_ok=True)
        part.tofile(part_path(scratch, reducer))
    return params, ctx, scratch


def _answer(scratch: Path) -> dict:
    return {"scratch": str(scratch), "parts": PARTS, "complete": True}


def _rewrite(scratch: Path, reducer: int, change: Callable[[np.ndarray], np.ndarray]) -> None:
    path = part_path(scratch, reducer)
    change(np.fromfile(path, RECORD)).tofile(path)


def _swap_records(part: np.ndarray) -> np.ndarray:
    part[[10, 20]] = part[[20, 10]]
    return part


def _corrupt_value(part: np.ndarray) -> np.ndarray:
    raw = part.view(np.uint8).copy()
    raw[50] ^= 1
    return raw.view(RECORD)


def _swap_parts(scratch: Path) -> None:
    first, last = part_path(scratch, 0), part_path(scratch, PARTS - 1)
    first.rename(scratch / "tmp")
    last.rename(first)
    (scratch / "tmp").rename(last)


DAMAGES = {
    "unsorted part": (lambda s: _rewrite(s, 1, _swap_records), "part 1 is not sorted"),
    "parts out of order": (_swap_parts, "starts below the end"),
    "lost record": (lambda s: _rewrite(s, 2, lambda p: p[:-1]), "9999 records in the output"),
    "changed value": (lambda s: _rewrite(s, 0, _corrupt_value), "checksum differs"),
    "missing part": (lambda s: part_path(s, 1).unlink(), "part 1 is missing"),
}


def test_validator_accepts_sorted_output_and_removes_it(output):
    params, ctx, scratch = output
    params.keep_output = False
    verdict = terasort.validate(params, ctx, _answer(scratch))
    assert verdict.valid, verdict.detail
    assert not scratch.exists()


@pytest.mark.parametrize("damage", DAMAGES)
def test_validator_rejects_damaged_output(output, damage):
    params, ctx, scratch = output
    apply, reason = DAMAGES[damage]
    apply(scratch)
    verdict = terasort.validate(params, ctx, _answer(scratch))
    assert not verdict.valid and reason in verdict.detail, verdict.detail


def test_validator_rejects_an_incomplete_run(output):
    params, ctx, scratch = output
    verdict = terasort.validate(params, ctx, {**_answer(scratch), "complete": False})
    assert not verdict.valid and "incomplete" in verdict.detail
