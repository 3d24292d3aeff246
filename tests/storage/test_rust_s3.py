"""The Rust data apps with storage=s3: the driver presigns every object a worker reads or
writes, the Rust workers use plain HTTP (ranged GETs, PUTs) and the Python checks pass."""

from __future__ import annotations

import pytest

from tests.helpers.s3 import keys

PREFIX = "exp"
APPS = {
    "kmeans": (["app.points=6000", "app.dims=4", "app.k=4", "app.iterations=6"],
               "centroids match NumPy"),
    "terasort": (["app.size_mb=1"], "10000 records sorted in 4 parts, checksum matches"),
    "pagerank": (["app.nodes=2000", "app.edges=20000", "app.tolerance=0.001"],
                 "ranks match NumPy"),
}


@pytest.mark.parametrize("mode", ["burst", "map"])
@pytest.mark.parametrize("app", sorted(APPS))
def test_rust_app_reads_and_writes_s3_through_presigned_urls(run_cli, s3, bucket, app, mode):
    overrides, verdict = APPS[app]
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", f"app={app}",
                  "app.lang=rust", *overrides, "storage=s3",
                  f"storage.endpoint_url={s3.meta.endpoint_url}", f"storage.bucket={bucket}",
                  f"storage.prefix={PREFIX}")
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["status"] == "ok" and summary["valid"] == True, summary  # noqa: E712
    assert verdict in summary["validation"]
    workers = run.csv("workers.csv")
    assert (workers["status"] == "success").all()
    # every worker fetched from S3: its input (read_ms) or, a reducer, its shuffle (comm_ms)
    fetched = workers.reindex(columns=["read_ms", "comm_ms"], fill_value=0.0).sum(axis=1)
    assert (fetched > 0).all()
    # only the generated input is left: the runs' scratch objects were written, read, removed
    assert all(key.startswith(f"{PREFIX}/{app}/") and "/runs/" not in key
               for key in keys(s3, bucket)) and keys(s3, bucket)
