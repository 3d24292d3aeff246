"""The comparison as the notebook API returns it and the CLI prints it: the table's lines,
its medians, the metrics and keys asked for, and the notes of what was written.

In-process and on runs written by tests/helpers/compare.py, so each check runs in
a moment; tests/compare/test_compare.py runs `python -m runner.compare` itself.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from runner.analysis import compare_runs
from runner.analysis.compare import choose, format_table, saved_table, write
from runner.analysis.runs import CompareError
from tests.helpers.compare import Run, write_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two repeats of map and burst with 2 workers, and a map run whose worker 1 failed."""
    root = tmp_path_factory.mktemp("runs")
    for seed, (mode, granularity) in enumerate([("map", None), ("map", None), ("burst", 1),
                                                ("burst", 1)], start=1):
        write_run(root / f"r{seed}", Run(mode, 2, seed, granularity=granularity))
    write_run(root / "r9", Run("map", 2, 9, failed_workers=(1,)))
    return root


def _summaries(root: Path) -> pd.DataFrame:
    return pd.concat([pd.read_csv(path / "summary.csv") for path in sorted(root.iterdir())],
                     ignore_index=True)


def _cell(values: pd.Series) -> str:
    """How the printed table shows one metric of one variant: `median [min, max]`."""
    median, low, high = values.median(), values.min(), values.max()
    return f"{median:.1f}" if low == high else f"{median:.1f} [{low:.1f}, {high:.1f}]"


def test_the_table_prints_medians_of_the_ok_runs_and_says_what_was_left_out(runs: Path) -> None:
    comparison = compare_runs([runs])
    lines = format_table(comparison).splitlines()
    assert lines[:4] == [
        "5 runs; median [min, max] over the ok runs of each variant",
        "varied: mode",
        "fixed: app=sleep, platform=local, workers=2, app.sleep_ms=50",
        "runs not ok are left out of the medians (--include-failed counts them)",
    ]
    assert lines[4].split() == ["mode", "runs", "left", "out", "makespan_ms",
                                "startup_spread_ms", "total_ms", "failed", "valid"]
    summaries = _summaries(runs)
    ok = summaries[summaries["status"] == "ok"]
    for line, mode in zip(lines[5:], ["burst", "map"], strict=True):
        mine = ok[ok["mode"] == mode]
        assert line.split()[0] == mode
        assert line.split()[1] == "2"  # the ok runs
        for metric in ("makespan_ms", "total_ms"):
            assert _cell(mine[metric]) in line, (metric, line)
    assert "1 failed" in lines[6] and "1 failed" not in lines[5]
    assert len(lines) == 7
    # the notebook API's workers are those of the counted runs too
    assert len(comparison.counted_runs) == 4 and len(comparison.counted_workers) == 8


def test_include_failed_counts_every_run(runs: Path) -> None:
    comparison = compare_runs([runs], include_failed=True)
    lines = format_table(comparison).splitlines()
    assert lines[0] == "5 runs; median [min, max] over all runs of each variant"
    assert lines[3].split()[:2] == ["mode", "runs"]
    summaries = _summaries(runs)
    maps = summaries[summaries["mode"] == "map"]
    assert _cell(maps["makespan_ms"]) in lines[5 if lines[4].startswith("burst") else 4 + 1]
    assert len(comparison.counted_runs) == 5
    assert len(comparison.counted_workers) == 10


def test_metrics_and_keys_asked_for_and_a_workers_column_as_a_metric(runs: Path) -> None:
    comparison = compare_runs([runs], by="mode", metrics="makespan_ms,compute_ms")
    assert (comparison.by, comparison.metrics) == (["mode"], ["makespan_ms", "compute_ms"])
    per_run = pd.Series([pd.read_csv(runs / name / "workers.csv")["compute_ms"].mean()
                         for name in ("r1", "r2")])
    row = comparison.table.set_index("mode").loc["map"]
    assert row["compute_ms_median"] == pytest.approx(per_run.median())
    # a single value shows once; a single key varies, nothing else is said to
    lines = format_table(compare_runs([runs / "r1"], metrics=["makespan_ms"])).splitlines()
    assert lines[1:3] == ["varied: -", "fixed: app=sleep, mode=map, platform=local, workers=2, "
                          "app.sleep_ms=50"]
    makespan = pd.read_csv(runs / "r1" / "summary.csv")["makespan_ms"].iloc[0]
    assert lines[-1].split() == ["1", f"{makespan:.1f}"]
    assert lines[3].split() == ["runs", "makespan_ms"] and len(lines) == 5, "none left out"


def test_unknown_names_are_refused_with_what_there_is(runs: Path) -> None:
    with pytest.raises(CompareError, match=r"^unknown metric colour,size; choose from a, b$"):
        choose("colour,a,size", ["a", "b"], [], "metric")
    with pytest.raises(CompareError, match=r"^unknown key ',,'; choose from a$"):
        choose(",,", ["a"], ["a"], "key")
    assert choose(None, ["a"], ["b"], "key") == ["b"]
    assert choose(["a", ""], ["a", "c"], [], "key") == ["a"]
    assert choose("c,a", iter(["a", "c"]), [], "key") == ["c", "a"]
    with pytest.raises(CompareError, match="unknown metric colour"):
        compare_runs([runs], metrics="colour")


def test_runs_without_summaries_have_no_metric_to_compare(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "r", Run("map", 2, 1))
    (run_dir / "summary.csv").unlink()
    with pytest.raises(CompareError, match=r"^the runs have none of the metrics makespan_ms, "
                                           r"startup_spread_ms, total_ms, failed, valid"):
        compare_runs([tmp_path])


def test_what_is_written_and_the_notes_that_say_so(runs: Path, tmp_path: Path) -> None:
    # a summary metric beside makespan_ms gets no figure of its own; the others do
    comparison = compare_runs([runs], metrics="makespan_ms,compute_ms,run_ms,total_ms")
    out = tmp_path / "new" / "out"
    notes = write(comparison, out, ["svg"])
    saved = pd.read_csv(out / "comparison.csv")
    assert list(saved.columns[:2]) == ["mode", "runs"], "no index column"
    assert pd.read_csv(out / "runs.csv").columns[0] != "Unnamed: 0"
    assert saved["varied"].tolist() == ["mode", "mode"]
    assert saved["fixed"].tolist() == ["app=sleep, platform=local, workers=2, app.sleep_ms=50"] * 2
    assert saved_table(comparison).shape[0] == 2
    assert len(pd.read_csv(out / "runs.csv")) == 5
    assert notes[:2] == [f"wrote {out / 'comparison.csv'}", f"wrote {out / 'runs.csv'}"]
    figures = [note.split("/")[-1] if note.startswith("wrote") else note for note in notes[2:-1]]
    assert figures == [
        "makespan_ms_vs_workers.svg", "compute_ms_vs_workers.svg", "run_ms_vs_workers.svg",
        "speedup_vs_workers.svg",
        "startup_spread_vs_granularity.svg",
        "start_latency_box.svg", "start_latency_cdf.svg", "running_at_once.svg",
        "breakdown.svg"]
    for name in figures:
        if not name.startswith("skipped"):
            assert (out / name).stat().st_size > 0, name
    assert notes[-1] == (f"wrote 5 timelines into {out / 'timelines'} "
                         "(file names: run_id in runs.csv)")
    runs_csv = pd.read_csv(out / "runs.csv", dtype={"run_id": str})
    assert sorted(p.stem for p in (out / "timelines").glob("*.svg")) == sorted(runs_csv["run_id"])


def test_runs_without_times_have_no_timelines_and_skip_figures(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "runs" / "r", Run("map", 2, 1))
    for name in ("workers.csv", "activations.csv"):
        rows = pd.read_csv(run_dir / name)
        rows[[c for c in rows.columns if c.endswith("_ms")]] = None
        rows.to_csv(run_dir / name, index=False)
    comparison = compare_runs([tmp_path / "runs"])
    notes = write(comparison, tmp_path / "out", ["svg"])
    assert "skipped speedup_vs_workers: needs both map and burst runs" in notes
    assert "skipped running_at_once: no workers with start and end times" in notes
    assert notes[-1] == "skipped timelines: no run has worker times"
    assert not (tmp_path / "out" / "timelines").exists()


def test_each_runs_timeline_is_drawn_from_that_run(tmp_path: Path) -> None:
    """A timeline's height grows with its workers: each file must match its own run's."""
    import matplotlib.image

    from runner.analysis import plots

    for seed, workers in ((1, 2), (2, 12)):
        write_run(tmp_path / "runs" / f"r{seed}", Run("map", workers, seed))
    comparison = compare_runs([tmp_path / "runs"])
    write(comparison, tmp_path / "out", ["png"])
    runs_csv = pd.read_csv(tmp_path / "out" / "runs.csv", dtype={"run_id": str})
    # one time axis for all: to 2 % past the longest run
    until_s = max(plots.duration_s(Path(run)) for run in runs_csv["run"]) * 1.02
    heights = set()
    for run_id, run in zip(runs_csv["run_id"], runs_csv["run"], strict=True):
        alone = plots.timeline(Path(run), tmp_path / f"{run_id}-alone.png", until_s=until_s)
        expected = matplotlib.image.imread(alone)
        drawn = matplotlib.image.imread(tmp_path / "out" / "timelines" / f"{run_id}.png")
        assert drawn.shape == expected.shape and (drawn == expected).all(), run
        heights.add(expected.shape[0])
    assert len(heights) == 2, "the two runs' timelines differ in height"


def test_numeric_keys_get_figures_against_them_and_empty_keys_none(tmp_path: Path) -> None:
    for seed, sleep_ms in ((1, 50), (2, 100)):
        write_run(tmp_path / "runs" / f"r{seed}", Run("map", 2, seed, sleep_ms=sleep_ms))
    comparison = compare_runs([tmp_path / "runs"], metrics="makespan_ms")
    assert comparison.by == ["app.sleep_ms"]
    notes = write(comparison, tmp_path / "out", ["svg"])
    assert f"wrote {tmp_path / 'out' / 'makespan_ms_vs_app.sleep_ms.svg'}" in notes
    # granularity is empty in map runs: no axis to draw against
    comparison = compare_runs([tmp_path / "runs"], by="app.sleep_ms,granularity",
                              metrics="makespan_ms")
    notes = write(comparison, tmp_path / "out2", ["svg"])
    assert not [note for note in notes if "makespan_ms_vs_granularity" in note]
    assert f"wrote {tmp_path / 'out2' / 'makespan_ms_vs_app.sleep_ms.svg'}" in notes


def test_a_run_rewritten_while_compared_loses_only_its_timeline(tmp_path: Path) -> None:
    """A run still being written may leave a half-written CSV between reading and drawing."""
    changing = write_run(tmp_path / "runs" / "r1", Run("map", 2, 1))
    write_run(tmp_path / "runs" / "r2", Run("map", 4, 2))
    comparison = compare_runs([tmp_path / "runs"], metrics="makespan_ms")
    (changing / "activations.csv").write_text('stage,activation_id,submit_ms\nmain,"a1,1\n')
    out = tmp_path / "out"
    notes = write(comparison, out, ["svg"])
    assert notes[-1] == (f"wrote 1 timelines into {out / 'timelines'} "
                         "(file names: run_id in runs.csv)")
    # writing again into the same folder replaces what is there
    again = write(comparison, out, ["svg"])
    assert again[-1] == notes[-1] and len(list((out / "timelines").iterdir())) == 1


def test_a_summary_metric_is_kept_when_workers_report_one_of_that_name(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "runs" / "r1", Run("map", 2, 1, parts=("total_ms",)))
    comparison = compare_runs([tmp_path / "runs"], metrics="total_ms")
    summary = pd.read_csv(run_dir / "summary.csv")["total_ms"].iloc[0]
    assert comparison.table["total_ms_median"].tolist() == [pytest.approx(summary)]


def test_a_key_with_a_single_number_is_still_an_axis(tmp_path: Path) -> None:
    write_run(tmp_path / "runs" / "r1", Run("map", 2, 1))
    write_run(tmp_path / "runs" / "r2", Run("burst", 2, 2, granularity=2))
    comparison = compare_runs([tmp_path / "runs"], by="mode,granularity", metrics="makespan_ms")
    notes = write(comparison, tmp_path / "out", ["svg"])
    assert [note for note in notes if "makespan_ms_vs_granularity" in note]
