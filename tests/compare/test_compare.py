"""`python -m runner.compare` as a user runs it: the printed table, comparison.csv, figures."""

from __future__ import annotations

import re
from itertools import count, product
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from runner import compare
from runner.analysis import compare_runs, figures, plots
from runner.analysis.compare import write
from runner.analysis.runs import load_runs, load_workers
from tests.helpers.compare import (
    Run,
    assert_picture,
    read_summaries,
    run_compare,
    write_run,
    write_sweep,
)

METRICS = ["makespan_ms", "startup_spread_ms", "total_ms", "failed", "valid"]


def _shown(median: float, low: float, high: float) -> str:
    """How the printed table shows one metric of one group."""
    return f"{median:.1f}" if low == high else f"{median:.1f} [{low:.1f}, {high:.1f}]"


@pytest.fixture(scope="module")
def repeated(tmp_path_factory: pytest.TempPathFactory):
    """Three repeats of map/burst x 2/4 workers as single runs over two days, compared once.

    Each run names its own build cache: an override that must not count as a
    difference between runs.
    """
    root = tmp_path_factory.mktemp("outputs")
    seeds = count(1)
    for mode, workers, repeat in product(["map", "burst"], [2, 4], range(3)):
        seed = next(seeds)
        run_dir = root / "runs" / f"2026-11-2{8 + repeat % 2}" / f"13-00-{seed:02d}_sleep_{mode}"
        write_run(run_dir, Run(mode, workers, seed,
                               extra_overrides=[f"build.cache_dir={root}/cache{seed}"]))
    out = root / "compare"
    return root / "runs", out, run_compare(str(root / "runs"), "--out", str(out))


def test_table_and_csv_hold_the_medians_of_the_summaries(repeated):
    runs_dir, out, done = repeated
    assert done.returncode == 0, done.stderr
    expected = read_summaries(runs_dir).astype({"valid": float}).groupby(["mode", "workers"])
    table = pd.read_csv(out / "comparison.csv")
    assert len(table) == 4
    printed = {tuple(line.split()[:3]): line for line in done.stdout.splitlines()}
    for (mode, workers), runs in expected:
        row = table[(table["mode"] == mode) & (table["workers"] == workers)].iloc[0]
        line = printed[(mode, str(workers), "3")]
        assert row["runs"] == 3
        for metric in METRICS:
            median, low, high = runs[metric].median(), runs[metric].min(), runs[metric].max()
            assert row[[f"{metric}_median", f"{metric}_min", f"{metric}_max"]].tolist() == (
                pytest.approx([median, low, high]))
            assert _shown(median, low, high) in line


def test_varied_keys_are_found_and_settings_that_do_not_matter_are_not(repeated):
    _, out, done = repeated
    lines = done.stdout.splitlines()
    assert lines[0].startswith("12 runs; ")
    assert lines[1] == "varied: mode, workers"
    assert lines[2] == "fixed: app=sleep, platform=local, app.sleep_ms=50"
    assert lines[3].split() == ["mode", "workers", "runs", *METRICS]
    # app and platform never change; build.cache_dir changes but measures nothing;
    # backend changes exactly with mode.
    assert list(pd.read_csv(out / "comparison.csv").columns[:3]) == ["mode", "workers", "runs"]


def test_figures_are_written_and_show_something(repeated):
    _, out, done = repeated
    for name in ["makespan_ms_vs_workers.png", "speedup_vs_workers.png",
                 "startup_spread_vs_granularity.png", "start_latency_box.png",
                 "start_latency_cdf.png", "running_at_once.png", "breakdown.png"]:
        assert f"wrote {out / name}" in done.stdout
        assert_picture(out / name)
    runs = pd.read_csv(out / "runs.csv", dtype={"run_id": str})
    timelines = sorted(out.glob("timelines/*.png"))
    assert [path.stem for path in timelines] == sorted(runs["run_id"])
    for path in timelines[:2]:
        assert_picture(path)


def test_by_groups_over_everything_else(repeated, tmp_path):
    runs_dir, _, _ = repeated
    done = run_compare(str(runs_dir), "--by", "mode", "--metric", "makespan_ms,run_ms",
                       "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(tmp_path / "comparison.csv").set_index("mode")
    expected = read_summaries(runs_dir).groupby("mode")
    assert list(table.columns) == [
        "runs", "left_out", "statuses", "left_out_statuses", "makespan_ms_median",
        "makespan_ms_min", "makespan_ms_max", "run_ms_median", "run_ms_min", "run_ms_max",
        "variant", "varied", "fixed"]
    assert table["varied"].tolist() == ["mode", "mode"]
    assert table["statuses"].tolist() == ["6 ok", "6 ok"]
    assert table["runs"].to_dict() == {"burst": 6, "map": 6}
    assert table["makespan_ms_median"].to_dict() == pytest.approx(
        expected["makespan_ms"].median().to_dict())
    assert table["run_ms_max"].to_dict() == pytest.approx(expected["run_ms"].max().to_dict())


def test_sweep_is_compared_in_place(tmp_path):
    sweep = write_sweep(tmp_path / "sweep", [
        Run("burst", 4, seed, granularity=granularity, sleep_ms=sleep_ms)
        for seed, (granularity, sleep_ms) in enumerate(product([1, 2, 4], [10, 50]))])
    (sweep / "sweep_summary.csv").write_text("job,status\n0,interrupted\n")  # a stale one
    done = run_compare(str(sweep), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    table = pd.read_csv(sweep / "comparison.csv")
    # burst.granularity splits the runs exactly like the summary's granularity
    assert list(table.columns[:3]) == ["granularity", "app.sleep_ms", "runs"]
    runs = read_summaries(sweep).assign(sleep_ms=lambda frame: frame["run"].str.extract(
        r"app\.sleep_ms=(\d+)", expand=False).astype(int))
    for row in table.to_dict("records"):
        match = runs[(runs["granularity"] == row["granularity"])
                     & (runs["sleep_ms"] == row["app.sleep_ms"])]
        assert row["makespan_ms_median"] == pytest.approx(match["makespan_ms"].median())
    rewritten = pd.read_csv(sweep / "sweep_summary.csv")
    assert len(rewritten) == 6 and (rewritten["status"] == "ok").all()
    assert_picture(sweep / "startup_spread_vs_granularity.png")
    assert not (tmp_path / "outputs").exists()


def test_missing_data_skips_a_figure_in_one_line(tmp_path):
    for seed, workers in enumerate([2, 4]):
        write_run(tmp_path / "runs" / f"run{seed}", Run("map", workers, seed, parts=()))
    done = run_compare(str(tmp_path / "runs"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    skipped = [line for line in done.stdout.splitlines() if line.startswith("skipped")]
    assert [line.split(":")[0] for line in skipped] == [
        "skipped speedup_vs_workers", "skipped startup_spread_vs_granularity",
        "skipped breakdown"]
    assert "skipped breakdown: no workers.csv with any of read_ms" in done.stdout
    assert_picture(tmp_path / "out" / "makespan_ms_vs_workers.png")


def test_default_output_outside_a_sweep_is_under_outputs_compare(tmp_path):
    write_run(tmp_path / "runs" / "one", Run("map", 2, seed=1))
    done = run_compare("runs/*", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [written] = (tmp_path / "outputs" / "compare").glob("*/comparison.csv")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", written.parent.name)  # <date>_<time>
    assert pd.read_csv(written)["runs"].tolist() == [1]


def test_missing_path_is_one_line_and_exit_2(tmp_path):
    done = run_compare("nowhere", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "compare: no such file or directory: nowhere\n"


@pytest.mark.parametrize(("args", "message"), [
    (["empty"], "compare: no run directories under empty"),
    (["nothing*"], "compare: no such file or directory: nothing*"),
    (["runs", "--by", "colour"], "compare: unknown key colour; choose from "),
    (["runs", "--metric", "speed"], "compare: unknown metric speed; choose from "),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    (tmp_path / "empty").mkdir()
    write_run(tmp_path / "runs" / "one", Run("map", 2, seed=1))
    monkeypatch.chdir(tmp_path)
    assert compare.main(args) == 2
    printed = capsys.readouterr()
    assert printed.err.startswith(message)
    assert len(printed.err.splitlines()) == 1
    assert printed.out == ""
    assert not (tmp_path / "outputs").exists()


def test_makespan_figure_draws_one_median_line_per_mode(repeated, tmp_path):
    runs_dir, _, _ = repeated
    runs = load_runs([runs_dir])
    figure = figures.metric_against(runs, "workers", "makespan_ms", ["mode"], {"app": "sleep"})
    [axes] = figure.axes
    lines = axes.get_lines()
    assert sorted(line.get_label() for line in lines) == ["burst", "map"]
    medians = read_summaries(runs_dir).groupby(["mode", "workers"])["makespan_ms"].median()
    for line in lines:
        assert list(line.get_xdata()) == [2, 4]
        assert list(line.get_ydata()) == pytest.approx(medians[line.get_label()].tolist())
    assert figure.texts[0].get_text().splitlines()[0] == "sleep: makespan_ms against workers"
    assert "n = 3 runs per point" in figure.texts[0].get_text()
    assert_picture(plots.save(figure, tmp_path / "m.png"))


def test_speedup_is_the_median_map_makespan_over_the_median_burst_one(repeated):
    runs_dir, _, _ = repeated
    figure = figures.speedup(load_runs([runs_dir]), ["mode", "workers"], {"app": "sleep"})
    # one line per burst variant, beside the dashed line at 1
    [line] = [line for line in figure.axes[0].get_lines()
              if line.get_label().startswith("burst")]
    medians = read_summaries(runs_dir).groupby(["mode", "workers"])["makespan_ms"].median()
    assert list(line.get_xdata()) == [2, 4]
    assert list(line.get_ydata()) == pytest.approx(
        [medians["map", w] / medians["burst", w] for w in (2, 4)])


def test_a_burst_of_one_pack_is_drawn_at_its_worker_count(tmp_path):
    # granularity null (one pack for all) beside packs of 2, at 4 workers
    sweep = write_sweep(tmp_path / "sweep", [Run("burst", 4, seed, granularity=granularity)
                                             for seed, granularity in enumerate([None, 2])])
    runs = load_runs([sweep])
    figure = figures.startup_spread(runs, ["granularity"], {"app": "sleep"})
    [line] = figure.axes[0].get_lines()
    spreads = read_summaries(sweep).set_index("granularity", drop=False)["startup_spread_ms"]
    assert list(line.get_xdata()) == [2, 4]
    assert list(line.get_ydata()) == pytest.approx([spreads[2.0], spreads[spreads.index.isna()]
                                                    .item()])


def test_running_at_once_draws_each_variants_median_run(repeated):
    runs_dir, _, _ = repeated
    runs = load_runs([runs_dir])
    workers = load_workers(runs)
    figure = figures.concurrency(workers, runs, ["mode", "workers"], {"app": "sleep"})
    lines = figure.axes[0].get_lines()
    assert len(lines) == 4  # one per variant
    for line in lines:
        run_id = re.search(r"\(run (\w+)\)", line.get_label()).group(1)
        run = runs.set_index("run_id").loc[run_id]
        repeats = runs[(runs["mode"] == run["mode"]) & (runs["workers"] == run["workers"])]
        assert run["makespan_ms"] == repeats["makespan_ms"].median()  # 3 repeats: the middle
        # at its peak, the number of its workers whose start..end spans overlap most
        mine = workers[workers["run_id"] == run_id]
        peak = max(((mine["start_ms"] <= t) & (mine["end_ms"] > t)).sum()
                   for t in mine["start_ms"])
        assert max(line.get_ydata()) == peak


def test_breakdown_stacks_each_variants_mean_wait_then_its_parts_in_key_order(repeated):
    runs_dir, _, _ = repeated
    workers = load_workers(load_runs([runs_dir]))
    figure = figures.breakdown(workers, ["mode", "workers"], {"app": "sleep"})
    [axes] = figure.axes
    order = [("burst", 2), ("burst", 4), ("map", 2), ("map", 4)]
    assert [label.get_text().split(" (n=")[0] for label in axes.get_yticklabels()] == [
        f"{mode} w={n}" for mode, n in order]
    parts = ["start_latency_ms", "compute_ms", "comm_ms"]  # the fixture's runs report these
    assert [bars.get_label() for bars in axes.containers] == [
        "wait for start", "compute", "communicate"]
    means = workers.groupby(["mode", "workers"])[parts].mean()
    left = [0.0] * len(order)
    for part, bars in zip(parts, axes.containers, strict=True):
        assert [bar.get_width() for bar in bars] == pytest.approx(
            [means.loc[key, part] for key in order])
        assert [bar.get_x() for bar in bars] == pytest.approx(left)  # stacked on the last part
        left = [x + bar.get_width() for x, bar in zip(left, bars, strict=True)]


def test_every_figure_is_titled_with_the_app_and_the_fixed_settings(repeated, tmp_path,
                                                                     monkeypatch):
    runs_dir, _, _ = repeated
    drawn: dict[str, Figure] = {}
    save = plots.save

    def keep(figure: Figure, path: Path) -> Path:
        drawn[path.relative_to(tmp_path).as_posix()] = figure
        return save(figure, path)

    monkeypatch.setattr(plots, "save", keep)
    comparison = compare_runs([runs_dir])
    write(comparison, tmp_path, ["png"])
    timelines = {name: drawn.pop(name) for name in list(drawn) if name.startswith("timelines/")}
    assert len(drawn) == 7
    for name, figure in drawn.items():
        title = figure.get_suptitle().splitlines()
        assert title[0].startswith("sleep: "), (name, title)
        assert title[1] == "platform=local, app.sleep_ms=50", (name, title)
    # every run's timeline on one time axis, long enough for the longest run
    assert len(timelines) == 12
    [limits] = {figure.axes[0].get_xlim() for figure in timelines.values()}
    assert limits[0] == 0
    assert limits[1] >= max(plots.duration_s(Path(run)) for run in comparison.runs["run"])


def test_start_latency_cdf_is_the_share_of_each_variants_workers_started_by_then(repeated):
    runs_dir, _, _ = repeated
    workers = load_workers(load_runs([runs_dir]))
    figure = figures.start_latency_cdf(workers, ["mode", "workers"], {"app": "sleep"})
    lines = {line.get_label().split(" (n=")[0]: line for line in figure.axes[0].get_lines()}
    assert sorted(lines) == ["burst w=2", "burst w=4", "map w=2", "map w=4"]
    for (mode, n), mine in workers.groupby(["mode", "workers"]):
        latencies = sorted(mine["start_latency_ms"])  # each worker's start minus first submit
        line = lines[f"{mode} w={n}"]
        assert list(line.get_xdata()) == pytest.approx(latencies)
        assert list(line.get_ydata()) == pytest.approx(
            [(i + 1) / len(latencies) for i in range(len(latencies))])


def test_a_metric_is_drawn_in_one_panel_per_app_with_min_to_max_shaded(tmp_path):
    for seed, (app, workers, _) in enumerate(product(["sleep", "mcpi"], [2, 4], range(2))):
        write_run(tmp_path / f"run{seed}", Run("map", workers, seed, app=app))
    runs = load_runs([tmp_path])
    figure = figures.metric_against(runs, "workers", "makespan_ms", ["mode"], {})
    panels = [axes for axes in figure.axes if axes.get_visible()]
    assert [axes.get_title() for axes in panels] == ["mcpi", "sleep"]
    for axes in panels:
        mine = runs[runs["app"] == axes.get_title()].groupby("workers")["makespan_ms"]
        [line] = axes.get_lines()
        assert list(line.get_ydata()) == pytest.approx(mine.median().tolist())
        [shade] = axes.collections
        vertices = shade.get_paths()[0].vertices
        for workers, low, high in zip(mine.min().index, mine.min(), mine.max(), strict=True):
            # the band at each point spans its runs' min to max
            assert {round(y, 6) for x, y in vertices if x == workers} == {low, high}


def test_start_latency_box_is_one_box_per_variant_of_its_workers_latencies(repeated):
    runs_dir, _, _ = repeated
    workers = load_workers(load_runs([runs_dir]))
    figure = figures.start_latency_boxes(workers, ["mode", "workers"], {"app": "sleep"})
    [axes] = figure.axes
    latencies = workers.groupby(["mode", "workers"])["start_latency_ms"]  # in key order
    assert [label.get_text() for label in axes.get_xticklabels()] == [
        f"{mode} w={n} (n={count})" for (mode, n), count in latencies.size().items()]
    lines = axes.get_lines()
    boxes = [line for line in lines if len(line.get_ydata()) == 5]  # each box's outline
    medians = [line for line in lines if line.get_color() == "C1"]
    assert [line.get_ydata()[0] for line in medians] == pytest.approx(
        latencies.median().tolist())
    assert [(min(box.get_ydata()), max(box.get_ydata())) for box in boxes] == [
        pytest.approx((values.quantile(0.25), values.quantile(0.75))) for _, values in latencies]
