"""collectives: every operation delivers the right bytes through the CLI, on both backends."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ow_apps import collectives
from runner.apps import RunContext

OPS = [op.value for op in collectives.Op]
# 5 workers in packs of 2: uneven packs, an odd one out for `pair`, and 65 KiB messages
# that take the big-message path of both backends.
SMALL = ["workers=5", "burst.granularity=2", "app=collectives", "app.payload_kb=65",
         "app.repetitions=2"]
COLUMNS = ["op_ms_median", "op_ms_min", "throughput_mib_s", "bytes"]


def check_run(run_dir: Path, op: str) -> None:
    summary = pd.read_csv(run_dir / "summary.csv").iloc[0]
    assert summary["status"] == "ok", summary["message"]
    assert summary["valid"] == True, summary["validation"]  # noqa: E712
    assert summary["validation"].startswith(f"{op} of 65 KiB among 5 workers delivered")
    workers = pd.read_csv(run_dir / "workers.csv", dtype={"digest": str})  # hex, not numbers
    assert sorted(workers["worker_id"]) == list(range(5))
    assert (workers["op"] == op).all()
    assert (workers[COLUMNS] >= 0).all().all()
    assert (workers["op_ms_min"] <= workers["op_ms_median"]).all()
    assert workers["digest"].astype(str).str.fullmatch(r"[0-9a-f]{8}").all()


def test_every_op_delivers_the_expected_bytes(run_cli, tmp_path: Path) -> None:
    """One sweep over every op: one CLI process instead of seven."""
    sweep = tmp_path / "sweep"
    run = run_cli("--multirun", "mode=burst", *SMALL, f"app.op={','.join(OPS)}",
                  f"hydra.sweep.dir={sweep}", timeout=300)
    assert run.returncode == 0, run.stderr
    jobs = pd.read_csv(sweep / "sweep_summary.csv")
    assert sorted(jobs["app.op"]) == sorted(OPS)
    for run_dir, op in zip(jobs["run"], jobs["app.op"], strict=True):
        check_run(Path(run_dir), op)


@pytest.mark.parametrize(("op", "chunk_kb"), [("all_to_all", 16), ("broadcast", None)])
def test_redis_backend(run_cli, redis_uri: str, op: str, chunk_kb: int | None) -> None:
    chunk = [] if chunk_kb is None else [f"burst.chunk_size={chunk_kb}"]
    run = run_cli("mode=burst", *SMALL, f"app.op={op}", "burst.backend=redis",
                  f"burst.backend_uri={redis_uri}", *chunk)
    assert run.returncode == 0, run.stderr
    check_run(run.run_dir, op)
    assert run.summary["backend"] == "redis"


def test_map_mode_is_refused(run_cli) -> None:
    run = run_cli("mode=map", "workers=2", "app=collectives")
    assert run.returncode == 2
    assert "app=collectives needs mode=burst" in run.stderr


@pytest.mark.parametrize(
    ("override", "message"),
    [("app.op=ring", "app.op"), ("app.repetitions=0", "app.repetitions=0: must be")],
)
def test_bad_params_are_config_errors(run_cli, override: str, message: str) -> None:
    run = run_cli("app=collectives", override)
    assert run.returncode == 2 and message in run.stderr


def test_validate_catches_a_misdelivered_message(tmp_path: Path) -> None:
    """The check is only worth something if a single misdelivered message fails it."""
    params = collectives.Params(name="collectives", op=collectives.Op.all_to_all,
                                payload_kb=1, repetitions=1, warmup=0)
    ctx = RunContext(3, "burst", tmp_path)
    results = [{"digest": digest, "op_ms_median": 1.0}
               for digest in collectives.expected_digests(params, 3)]
    assert collectives.validate(params, ctx, results).valid
    # Worker 1 holds, in place of its all_to_all chunk from worker 2, the one meant for worker 0.
    chunks = [collectives.messages.message(1024, sender, 0, 1) for sender in (0, 1)]
    chunks.append(collectives.messages.message(1024, 2, 0, 0))
    wrong = collectives.messages.crc(chunks)
    results[1] = {**results[1], "digest": f"{wrong:08x}"}
    verdict = collectives.validate(params, ctx, results)
    assert not verdict.valid and verdict.detail.startswith("worker 1 received other bytes")
