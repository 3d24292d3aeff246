"""The CLI end to end on the embedded platform: what a user sees in the run directory."""

import json
import platform
import re
import socket
from importlib import metadata

import pandas as pd
import pytest

WORKER_COLUMNS = ["stage", "worker_id", "activation_id", "pack", "start_ms", "end_ms", "status",
                  "error"]
ACTIVATION_COLUMNS = ["stage", "activation_id", "kind", "workers", "submit_ms", "accepted_ms",
                      "start_ms", "end_ms", "duration_ms", "wait_ms", "init_ms", "detected_ms",
                      "status", "error"]


def _check_hello_burst(run, workers: int, packs: int) -> None:
    assert run.returncode == 0, run.stderr
    assert f"run directory: {run.run_dir}" in run.stdout
    activations = run.csv("activations.csv")
    worker_rows = run.csv("workers.csv")
    assert list(activations.columns) == ACTIVATION_COLUMNS
    assert list(worker_rows.columns[: len(WORKER_COLUMNS)]) == WORKER_COLUMNS
    assert len(activations) == packs and set(activations["kind"]) == {"pack"}
    assert sorted(worker_rows["worker_id"]) == list(range(workers))
    assert (worker_rows["status"] == "success").all()
    for row in worker_rows.itertuples():
        assert row.token_from_left == (row.worker_id - 1) % workers
        assert row.broadcast == "hello from worker 0"
    summary = run.summary
    assert summary["valid"] == True  # noqa: E712 (numpy bool)
    assert summary["status"] == "ok" and summary["failed"] == 0
    assert summary["workers"] == workers and summary["mode"] == "burst"
    assert summary["makespan_ms"] > 0


def test_burst_hello_32_workers_one_pack(run_cli):
    run = run_cli("mode=burst", "workers=32", "app=hello")
    _check_hello_burst(run, 32, packs=1)
    assert run.csv("workers.csv")["pack"].eq(0).all()


def test_burst_hello_granularity_5_gives_7_packs_last_smaller(run_cli):
    run = run_cli("mode=burst", "workers=32", "app=hello", "burst.granularity=5")
    _check_hello_burst(run, 32, packs=7)
    activations = run.csv("activations.csv")
    assert list(activations.sort_values("workers", ascending=False)["workers"]) == [5] * 6 + [2]
    packs = run.csv("workers.csv").groupby("pack")["worker_id"].agg(["min", "max"])
    assert packs.loc[6].tolist() == [30, 31]
    assert packs.loc[0].tolist() == [0, 4]


def test_map_hello_32_workers(run_cli):
    run = run_cli("mode=map", "workers=32", "app=hello")
    assert run.returncode == 0, run.stderr
    activations = run.csv("activations.csv")
    workers = run.csv("workers.csv")
    assert len(activations) == 32 and set(activations["kind"]) == {"map"}
    assert activations["activation_id"].is_unique
    assert sorted(workers["worker_id"]) == list(range(32))
    assert all(m == f"hello from worker {w}" for w, m in zip(workers["worker_id"],
                                                             workers["message"], strict=True))
    # every activation was seen finished after it ended, on the same clock
    assert (activations["detected_ms"] >= activations["end_ms"]).all()
    assert (activations["start_ms"] >= activations["submit_ms"] - 5).all()
    # OpenWhisk's record of a cold start begins before its init; the worker began after it
    init = activations["init_ms"].fillna(0)
    assert (activations["start_ms"] + activations["duration_ms"] == activations["end_ms"]).all()
    runs = (activations["start_ms"] + init).set_axis(activations["activation_id"])
    assert (workers["start_ms"] == workers["activation_id"].map(runs)).all()
    assert run.summary["valid"] == True  # noqa: E712


def test_run_records_its_provenance_without_secrets(run_cli, standalone_platform):
    """The key given on the command line (a platform the runner does not own) is never saved."""
    secret = standalone_platform["AUTH"]
    run = run_cli("mode=map", "workers=2", "app=sleep", "app.sleep_ms=10", "platform=openwhisk",
                  f"platform.api_host={standalone_platform['APIHOST']}", f"platform.auth={secret}")
    assert run.returncode == 0, run.stderr
    info = json.loads((run.run_dir / "provenance.json").read_text())
    assert info["python"] == platform.python_version()
    assert info["packages"]["pandas"] == pd.__version__
    assert info["platform"] == f"OpenWhisk at {standalone_platform['APIHOST']}, namespace _"
    assert len(info["git_commit"] or "") in (0, 40)
    for path in run.run_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_provenance_names_the_version_the_host_and_the_apps_seed(run_cli):
    run = run_cli("mode=map", "workers=2", "app=pagerank", "app.nodes=500", "app.edges=2000",
                  "app.seed=7")
    assert run.returncode == 0, run.stderr
    info = json.loads((run.run_dir / "provenance.json").read_text())
    assert info["version"] == metadata.version("burst-runner")
    assert info["host"] == socket.gethostname()
    assert info["seed"] == 7
    assert info["platform"] == run.summary["platform_address"]


def test_a_second_run_on_the_same_platform_leaves_its_action_unchanged(run_cli,
                                                                       standalone_platform):
    target = ["platform=openwhisk", f"platform.api_host={standalone_platform['APIHOST']}",
              f"platform.auth={standalone_platform['AUTH']}"]
    first = run_cli(*target, "mode=map", "workers=2", "app=sleep", "app.sleep_ms=10")
    second = run_cli(*target, "mode=map", "workers=2", "app=sleep", "app.sleep_ms=10")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert [first.summary["deployed"], second.summary["deployed"]] == ["uploaded", "unchanged"]


def test_second_run_hits_the_build_cache(run_cli, tmp_path):
    first = run_cli("mode=map", "workers=2", "app=sleep", "app.sleep_ms=10",
                    build_cache=tmp_path / "cache")
    second = run_cli("mode=map", "workers=2", "app=sleep", "app.sleep_ms=10",
                     build_cache=tmp_path / "cache")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    assert first.summary["build_cache"] == "miss"
    assert second.summary["build_cache"] == "hit"


@pytest.mark.parametrize("mode", ["map", "burst"])
def test_failing_action_gives_failed_rows_and_one_line(run_cli, tmp_path, mode):
    action = tmp_path / "flaky.py"
    action.write_text(
        "import os\n"
        "def main(args, burst=None):\n"
        "    me = burst.worker_id if burst else args['worker_id']\n"
        "    if me == 1:\n"
        "        raise ValueError('worker one refuses')\n"
        "    if me == 2:\n"
        "        os._exit(3)\n"
        "    return {'worker_id': me, 'slept_ms': 1e9}\n"
    )
    run = run_cli(f"mode={mode}", "workers=4", "app=sleep", f"app.action={action}",
                  "burst.granularity=1")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    message = [line for line in run.stderr.splitlines() if line.startswith("failed:")]
    assert len(message) == 1 and "workers failed" in message[0]
    workers = run.csv("workers.csv").set_index("worker_id").sort_index()
    assert list(workers.index) == [0, 1, 2, 3]
    assert "ValueError: worker one refuses" in workers.loc[1, "error"]
    assert isinstance(workers.loc[2, "error"], str) and workers.loc[2, "error"]
    assert pd.isna(workers.loc[0, "error"]) and pd.isna(workers.loc[3, "error"])
    summary = run.summary
    assert summary["status"] == "failed" and summary["failed"] == 2
    saved = sorted((run.run_dir / "logs").glob("*.log"))
    # the logs of every failed activation (one worker each here), and of no other
    assert {path.stem for path in saved} == set(workers.loc[[1, 2], "activation_id"])
    saved_logs = "".join(path.read_text() for path in saved)
    assert "ValueError: worker one refuses" in saved_logs  # the traceback, for the post-mortem


def test_blocking_map_invocations_bring_their_results(run_cli):
    run = run_cli("mode=map", "workers=6", "app=hello", "invoke.blocking=true")
    assert run.returncode == 0, run.stderr
    activations = run.csv("activations.csv")
    assert len(activations) == 6 and (activations["status"] == "success").all()
    # the record came with the answer: seen no later than the invocation returned
    assert (activations["detected_ms"] == activations["accepted_ms"]).all()
    assert run.summary["valid"] == True  # noqa: E712


def test_joined_packs_on_two_invokers_report_their_real_workers(run_cli):
    run = run_cli("mode=burst", "workers=8", "burst.granularity=2", "burst.join=true",
                  "platform.invokers=2", "platform.slots=4", "app=hello")
    assert run.returncode == 0, run.stderr
    activations = run.csv("activations.csv")
    assert sorted(activations["workers"]) == [4, 4]  # two packs of 2 merged on each invoker
    workers = run.csv("workers.csv")
    assert workers.groupby("activation_id")["worker_id"].apply(sorted).tolist() in (
        [[0, 1, 2, 3], [4, 5, 6, 7]], [[4, 5, 6, 7], [0, 1, 2, 3]])


def test_heterogeneous_packing_without_granularity(run_cli):
    run = run_cli("mode=burst", "workers=10", "platform.invokers=3", "platform.slots=4",
                  "app=hello")
    assert run.returncode == 0, run.stderr
    activations = run.csv("activations.csv")
    assert sorted(activations["workers"]) == [2, 4, 4]
    assert sorted(run.csv("workers.csv")["worker_id"]) == list(range(10))


def test_default_run_directory_is_under_outputs_and_says_what_ran(tmp_path, cache_dir, data_dir):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "runner", "mode=map", "workers=2", "app=sleep", "app.sleep_ms=1",
         f"build.cache_dir={cache_dir}", f"data_dir={data_dir}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    [run_dir] = (tmp_path / "outputs" / "runs").glob("*/*")
    # outputs/runs/<date>/<time with microseconds>_<app>_<mode>_w<N>
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", run_dir.parent.name), run_dir
    assert re.fullmatch(r"\d\d-\d\d-\d\d-\d{6}_sleep_map_w2", run_dir.name), run_dir
    assert f"run directory: {run_dir}" in done.stdout
