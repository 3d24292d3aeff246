"""Data apps with storage=s3: inputs generated into a bucket once, workers reading their ranges."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers.s3 import free_port, keys

KMEANS = ["app=kmeans", "app.points=6000", "app.dims=4", "app.k=4", "app.iterations=6"]
TERASORT = ["app=terasort", "app.size_mb=1"]
PAGERANK = ["app=pagerank", "app.nodes=2000", "app.edges=20000", "app.tolerance=0.001"]
PREFIX = "exp"


@pytest.fixture
def on_s3(s3_endpoint: str, bucket: str, aws_env: None) -> list[str]:
    return ["storage=s3", f"storage.endpoint_url={s3_endpoint}", f"storage.bucket={bucket}",
            f"storage.prefix={PREFIX}"]


def _valid(run: Any) -> dict[str, Any]:
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["valid"] == True, summary["validation"]  # noqa: E712
    return summary


def test_kmeans_in_both_modes_reads_points_generated_once(run_cli, s3, bucket, on_s3):
    points = f"{PREFIX}/kmeans/points-6000x4-k4-s42.f64"
    burst = run_cli("mode=burst", "workers=4", "burst.granularity=2", *KMEANS, *on_s3)
    assert "centroids match NumPy" in _valid(burst)["validation"]
    assert set(burst.csv("workers.csv")["points"]) == {1500}
    assert keys(s3, bucket) == [points]
    generated = s3.head_object(Bucket=bucket, Key=points)["LastModified"]

    mapped = run_cli("mode=map", "workers=4", *KMEANS, *on_s3)
    assert "centroids match NumPy" in _valid(mapped)["validation"]
    assert all(s.startswith("iteration-") for s in set(mapped.csv("activations.csv")["stage"]))
    assert s3.head_object(Bucket=bucket, Key=points)["LastModified"] == generated, \
        "the second run generated the points again"


@pytest.mark.parametrize("mode", ["burst", "map"])
def test_terasort_sorts_from_s3_and_removes_its_scratch(run_cli, s3, bucket, on_s3, mode):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", *TERASORT, *on_s3)
    assert "10000 records sorted in 4 parts" in _valid(run)["validation"]
    assert keys(s3, bucket) == [f"{PREFIX}/terasort/teragen-1mb-s42.bin",
                                f"{PREFIX}/terasort/teragen-1mb-s42.json"]


def test_pagerank_map_exchanges_ranks_through_s3(run_cli, s3, bucket, on_s3):
    run = run_cli("mode=map", "workers=3", *PAGERANK, *on_s3)
    assert "ranks match NumPy" in _valid(run)["validation"]
    assert (run.csv("workers.csv").groupby("stage")["edges"].sum() == 20000).all()
    assert keys(s3, bucket, f"{PREFIX}/pagerank/runs/") == []


def test_keys_in_the_config_reach_the_actions_but_no_record(run_cli, bucket, on_s3, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    secret = "s3cr3t-that-must-stay-out-of-records"
    run = run_cli("mode=burst", "workers=2", *KMEANS, *on_s3, "storage.access_key=someone",
                  f"storage.secret_key={secret}")
    _valid(run)
    # .hydra/ holds the composed config, as given: redacting it is the CLI's job.
    recorded = [p for p in run.run_dir.rglob("*") if p.is_file() and ".hydra" not in p.parts]
    assert recorded and not [p for p in recorded if secret.encode() in p.read_bytes()]
    assert secret not in run.stdout + run.stderr


def _one_line_error(run: Any) -> str:
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_bad_endpoint_fails_the_run_in_one_line(run_cli, aws_env):
    endpoint = f"http://127.0.0.1:{free_port()}"
    run = run_cli("mode=burst", "workers=2", *KMEANS, "storage=s3",
                  f"storage.endpoint_url={endpoint}", "storage.bucket=data")
    line = _one_line_error(run)
    assert "s3://data/burst-runner/kmeans/" in line and "Could not connect" in line
    assert run.summary["status"] == "error"


@pytest.mark.parametrize(("overrides", "expected"), [
    (["storage=s3"], "config error: storage=s3 needs storage.bucket"),
    (["storage=s3", "storage.bucket=data", "storage.endpoint_url=minio:9000"],
     "config error: storage.endpoint_url=minio:9000: must start with http:// or https://"),
])
def test_s3_settings_that_cannot_work_are_config_errors(run_cli, aws_env, overrides, expected):
    run = run_cli(*KMEANS, *overrides)
    assert run.returncode == 2, run.stderr
    assert run.stderr.strip().splitlines() == [run.stderr.strip()]
    assert run.stderr.strip().startswith(expected)


def test_local_storage_path_moves_the_data(run_cli, tmp_path: Path):
    elsewhere = tmp_path / "elsewhere"
    _valid(run_cli("mode=burst", "workers=2", *TERASORT, f"storage.path={elsewhere}"))
    assert sorted(p.name for p in (elsewhere / "terasort").iterdir()) == [
        "runs", "teragen-1mb-s42.bin", "teragen-1mb-s42.json"]
