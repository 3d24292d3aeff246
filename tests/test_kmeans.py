"""kmeans in both modes computes NumPy's centroids, and says where the time went."""

import pytest

SMALL = ["app=kmeans", "app.points=6000", "app.dims=4", "app.k=4", "app.iterations=6"]


@pytest.mark.parametrize("mode", ["burst", "map"])
def test_kmeans_matches_numpy(run_cli, mode):
    run = run_cli(f"mode={mode}", "workers=4", "burst.granularity=2", *SMALL)
    assert run.returncode == 0, run.stderr
    summary = run.summary
    assert summary["valid"] == True, summary["validation"]  # noqa: E712
    assert "centroids match NumPy" in summary["validation"]
    workers = run.csv("workers.csv")
    assert (workers["read_ms"] >= 0).all() and (workers["compute_ms"] > 0).all()
    stages = set(run.csv("activations.csv")["stage"])
    if mode == "burst":
        assert stages == {"burst"}
        assert (workers["comm_ms"] >= 0).all()
        assert set(workers["points"]) == {1500}
    else:
        assert len(stages) >= 2 and all(s.startswith("iteration-") for s in stages)


def test_kmeans_wrong_threshold_type_is_a_config_error(run_cli):
    run = run_cli("app=kmeans", "app.threshold=abc")
    assert run.returncode == 2 and "app.threshold" in run.stderr


def test_startup_spread_is_measured_within_each_stage(run_cli):
    run = run_cli("mode=map", "workers=3", *SMALL)
    assert run.returncode == 0, run.stderr
    workers = run.csv("workers.csv")
    per_stage = workers.groupby("stage")["start_ms"].agg(lambda s: s.max() - s.min())
    assert run.summary["startup_spread_ms"] == per_stage.max()
    assert run.summary["startup_spread_ms"] < workers["start_ms"].max() - workers["start_ms"].min()
