"""Which runs compare as repeats of one variant, what enters the medians, and names on disk."""

from __future__ import annotations

import warnings
from itertools import product
from pathlib import Path

import pandas as pd
import pytest

from runner.analysis import compare_runs, load_activations, load_runs, load_workers
from runner.analysis.compare import saved_table, write
from tests.helpers.compare import (
    Run,
    assert_picture,
    read_summaries,
    run_compare,
    write_config_error,
    write_run,
    write_sweep,
)


def _sweep_of_repeats(root: Path, failed: set[int] = frozenset()) -> Path:
    """The README's sweep: mode=map,burst workers=4,8 burst.granularity=1,4 repeat=2."""
    runs = []
    for seed, (mode, workers, granularity, repeat) in enumerate(
            product(["map", "burst"], [4, 8], [1, 4], [0, 1])):
        runs.append(Run(mode, workers, seed, granularity=granularity if mode == "burst" else None,
                        extra_overrides=[f"repeat_index={repeat}"],
                        failed_workers=(0,) if seed in failed else ()))
        if mode == "map":  # the runner's summary leaves burst settings of map runs empty,
            runs[-1].extra_overrides.append(f"burst.granularity={granularity}")  # Hydra not
    return write_sweep(root, runs)


def test_repeats_and_burst_settings_of_map_runs_never_split_a_variant(tmp_path):
    sweep = _sweep_of_repeats(tmp_path / "sweep")
    done = run_compare(str(sweep))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "comparison.csv")
    assert table["variant"].tolist() == ["burst w=4 g=1", "burst w=4 g=4", "burst w=8 g=1",
                                         "burst w=8 g=4", "map w=4", "map w=8"]
    assert table["runs"].tolist() == [2, 2, 2, 2, 4, 4]
    assert set(table["varied"]) == {"mode,workers,granularity"}
    assert set(table["fixed"]) == {"app=sleep, platform=local, app.sleep_ms=50"}
    lines = done.stdout.splitlines()
    assert lines[1:3] == ["varied: mode, workers, granularity",
                          "fixed: app=sleep, platform=local, app.sleep_ms=50"]
    summaries = read_summaries(sweep)
    maps = summaries[summaries["mode"] == "map"].groupby("workers")["makespan_ms"].median()
    assert table.loc[table["variant"] == "map w=8", "makespan_ms_median"].item() == (
        pytest.approx(maps[8]))


# settings that only move files or limit waiting: two values each, never a difference
INCIDENTAL = [["build.cache_dir=/disk1/cache", "data_dir=/disk1/data", "storage.path=/disk1/s",
               "debug=false", "wait.timeout_s=60"],
              ["build.cache_dir=/disk2/cache", "data_dir=/disk2/data", "storage.path=/disk2/s",
               "debug=true", "wait.timeout_s=600"]]


def test_settings_that_move_files_or_limit_waiting_never_split_a_variant(tmp_path):
    for seed, (mode, incidental) in enumerate(product(["map", "burst"], INCIDENTAL)):
        write_run(tmp_path / "runs" / f"run{seed}", Run(mode, 2, seed,
                                                        extra_overrides=list(incidental)))
    out = tmp_path / "out"
    done = run_compare(str(tmp_path / "runs"), "--out", str(out), "--format", "svg")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(out / "comparison.csv")
    assert table["variant"].tolist() == ["burst", "map"]
    assert table["runs"].tolist() == [2, 2]
    assert done.stdout.splitlines()[:3] == [
        "4 runs; median [min, max] over the ok runs of each variant", "varied: mode",
        "fixed: app=sleep, platform=local, workers=2, app.sleep_ms=50"]
    # runs.csv: one row per run, its chosen values, its summary and its directory
    runs = pd.read_csv(out / "runs.csv", dtype={"run_id": str})
    assert len(runs) == 4 and runs["run_id"].is_unique
    assert {"mode", "workers", "wait.timeout_s", "makespan_ms", "status", "run"} <= set(
        runs.columns)
    assert sorted(runs["run"]) == sorted(str(tmp_path / "runs" / f"run{n}") for n in range(4))
    # --format: the figures in that format only
    assert (out / "makespan_ms_vs_workers.svg").is_file()
    assert not list(out.glob("*.png"))


def test_failed_runs_are_left_out_of_the_medians_and_counted(tmp_path):
    sweep = _sweep_of_repeats(tmp_path / "sweep", failed={8, 9, 12})  # seeds 8, 9: burst w=4 g=1
    done = run_compare(str(sweep))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "comparison.csv").set_index("variant")
    assert table.loc["burst w=4 g=1", ["runs", "left_out", "statuses"]].tolist() == [
        0, 2, "2 failed"]
    assert pd.isna(table.loc["burst w=4 g=1", "makespan_ms_median"])
    assert table.loc["burst w=8 g=1", ["runs", "left_out", "left_out_statuses"]].tolist() == [
        1, 1, "1 failed"]
    summaries = read_summaries(sweep)
    ok = summaries[(summaries["status"] == "ok") & (summaries["workers"] == 8)
                   & (summaries["granularity"] == 1)]
    assert table.loc["burst w=8 g=1", "makespan_ms_median"] == pytest.approx(
        ok["makespan_ms"].item())
    assert table.loc["burst w=8 g=1", "valid_median"] == 1.0
    printed = next(line for line in done.stdout.splitlines() if line.split()[:3] == [
        "burst", "8", "1"])
    assert printed.split()[3:5] == ["1", "1"]  # runs, then "1 failed" left out
    assert "runs not ok are left out of the medians" in done.stdout

    counted = run_compare(str(sweep), "--include-failed", "--out", str(tmp_path / "all"))
    assert counted.returncode == 0, counted.stderr
    everything = pd.read_csv(tmp_path / "all" / "comparison.csv").set_index("variant")
    assert everything.loc["burst w=8 g=1", ["runs", "left_out"]].tolist() == [2, 0]
    assert everything.loc["burst w=8 g=1", "valid_median"] == 0.5


def test_any_mix_of_runs_sweeps_and_apps_compares_with_short_file_names(tmp_path):
    long_value = "x" * 120
    for seed, app in enumerate(["sleep", "mcpi", "sleep"]):
        write_run(tmp_path / "runs" / f"run{seed}", Run(
            "burst", 4, seed, granularity=2, app=app, extra_overrides=[
                f"app.label={long_value}{seed}", "wait.timeout_s=600", "invoke.concurrency=8",
                f"build.cache_dir={tmp_path}/{long_value}"]))
    write_sweep(tmp_path / "sweep", [Run(mode, 4, 10 + seed) for seed, mode in enumerate(
        ["map", "burst"])])
    out = tmp_path / "out"
    done = run_compare(str(tmp_path / "runs" / "*"), str(tmp_path / "sweep"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    written = [path for path in out.rglob("*") if path.is_file()]
    assert len(written) > 10
    assert max(len(path.name) for path in written) <= 40
    table = pd.read_csv(out / "comparison.csv")
    assert "app" in table["varied"].iloc[0].split(",")
    runs = pd.read_csv(out / "runs.csv", dtype={"run_id": str})
    assert sorted(runs["run_id"]) == sorted(p.stem for p in (out / "timelines").glob("*.png"))


def test_skipped_jobs_are_not_runs(tmp_path):
    sweep = write_sweep(tmp_path / "sweep", [Run("burst", 2, 1, granularity=2)])
    [ran] = sweep.glob("0_*")
    write_config_error(sweep / "1_skipped", Run("burst", 2, 2, granularity=4, job=1),
                       "burst.granularity=4 > workers=2")
    text = (sweep / "1_skipped" / "error.txt").read_text().replace("config error", "skipped")
    (sweep / "1_skipped" / "error.txt").write_text(text)
    assert load_runs([sweep])["run"].tolist() == [str(ran)]
    assert "1 runs;" in run_compare(str(sweep)).stdout


def test_the_notebook_api_returns_the_tables_the_cli_writes(tmp_path):
    sweep = _sweep_of_repeats(tmp_path / "sweep", failed={3})
    runs = load_runs([sweep])
    assert len(runs) == 16
    assert runs["run_id"].tolist() == [f"{n:03d}" for n in range(16)]
    assert {"mode", "workers", "granularity", "burst.granularity", "repeat_index",
            "makespan_ms", "status", "run"} <= set(runs.columns)
    assert runs.loc[runs["mode"] == "map", "burst.granularity"].isna().all()

    workers = load_workers(runs)
    assert len(workers) == sum(pd.read_csv(Path(run) / "workers.csv").shape[0]
                               for run in runs["run"])
    assert list(workers.columns[:4]) == ["run_id", "app", "mode", "platform"]
    one = runs.iloc[5]
    mine = workers[workers["run_id"] == one["run_id"]]
    submitted = pd.read_csv(Path(one["run"]) / "activations.csv")["submit_ms"].min()
    assert (mine["start_latency_ms"] == mine["start_ms"] - submitted).all()
    assert (mine["granularity"].isna() if one["mode"] == "map"
            else mine["granularity"] == one["granularity"]).all()
    activations = load_activations(runs, keys=["mode", "workers"])
    assert list(activations.columns[:3]) == ["run_id", "mode", "workers"]

    comparison = compare_runs([sweep])
    write(comparison, tmp_path / "out", ["png"])
    saved = pd.read_csv(tmp_path / "out" / "comparison.csv")
    assert saved["runs"].tolist() == comparison.table["runs"].tolist()
    assert comparison.by == ["mode", "workers", "granularity"]
    assert len(comparison.counted_runs) == 15


def test_the_notebook_api_takes_the_clis_options(tmp_path):
    sweep = _sweep_of_repeats(tmp_path / "sweep", failed={8})
    out = tmp_path / "cli"
    done = run_compare(str(sweep), "--by", "mode", "--metric", "makespan_ms,run_ms",
                       "--include-failed", "--out", str(out))
    assert done.returncode == 0, done.stderr
    comparison = compare_runs([sweep], by="mode", metrics="makespan_ms,run_ms",
                              include_failed=True)
    assert saved_table(comparison).to_csv(index=False) == (out / "comparison.csv").read_text()
    assert comparison.table["runs"].tolist() == [8, 8]  # the failed run counted too


def test_figures_in_every_format_and_readable_at_fifty_variants(tmp_path):
    runs = [Run("burst", workers, seed, granularity=granularity, parts=("compute_ms", "read_ms"))
            for seed, (workers, granularity) in enumerate(
                product([4, 8, 16, 32, 64], [1, 2, 4, 8, 16, 32, 64, 3, 5, 6]))]
    sweep = write_sweep(tmp_path / "sweep", runs)
    comparison = compare_runs([sweep])
    assert len(comparison.table) == 50
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when labels do not fit
        notes = write(comparison, tmp_path / "out", ["png", "pdf", "svg"])
    for name in ["makespan_ms_vs_workers", "makespan_ms_vs_granularity",
                 "startup_spread_vs_granularity", "start_latency_box", "start_latency_cdf",
                 "running_at_once", "breakdown"]:
        for suffix in ["png", "pdf", "svg"]:
            path = tmp_path / "out" / f"{name}.{suffix}"
            assert f"wrote {path}" in notes
            assert path.stat().st_size > 1000
        assert_picture(tmp_path / "out" / f"{name}.png")
    assert "skipped speedup_vs_workers: needs both map and burst runs" in notes


def test_worker_columns_are_metrics_too(tmp_path):
    sweep = write_sweep(tmp_path / "sweep", [
        Run("burst", 4, seed, granularity=2, extra_overrides=[f"burst.chunk_size={chunk}"])
        for seed, chunk in enumerate([64, 1024, 16384])])
    done = run_compare(str(sweep), "--metric", "compute_ms,makespan_ms")
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "comparison.csv")
    expected = [pd.read_csv(next(sweep.glob(f"*chunk_size={chunk},*")) / "workers.csv")[
        "compute_ms"].mean() for chunk in [64, 1024, 16384]]
    assert table["compute_ms_median"].tolist() == pytest.approx(expected)
    assert_picture(sweep / "compute_ms_vs_burst.chunk_size.png")


def test_unknown_format_is_one_line(tmp_path):
    write_run(tmp_path / "runs" / "one", Run("map", 2, seed=1))
    done = run_compare(str(tmp_path / "runs"), "--format", "png,jpeg", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "compare: unknown format jpeg; choose from png, pdf, svg\n"
