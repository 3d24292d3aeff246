"""summary.csv and the status line, from row files with known times (README, "What a run writes").

The row files are written as the recorder writes them; summary.csv is read back
as a user reads it, with the csv module, so an empty cell stays visibly empty.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from runner.rundir.recorder import ACTIVATION_COLUMNS, WORKER_COLUMNS
from runner.rundir.summary import SUMMARY_COLUMNS, identity, summarize, verdict


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, columns)
        writer.writeheader()
        writer.writerows(rows)


def _read_summary(run_dir: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (run_dir / "summary.csv").open(newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def _cfg(mode: str) -> OmegaConf:
    return OmegaConf.create({
        "app": {"name": "sleep"}, "mode": mode, "platform": {"name": "local"}, "workers": 4,
        "burst": {"granularity": 2, "backend": "redis"}, "repeat_index": 3,
    })


def _said(*args: object, **kwargs: object) -> tuple[str, str]:
    """The status and the message, as the run's last line prints them."""
    decided = verdict(*args, **kwargs)  # type: ignore[arg-type]
    return decided.status, decided.message


def test_the_status_ladder_says_the_first_thing_that_went_wrong() -> None:
    assert _said(4, [], True, "all slept") == ("ok", "all slept")
    assert _said(4, [], False, "worker 2 said 5") == ("invalid", "wrong answer: worker 2 said 5")
    failed = _said(4, [(3, "ValueError: no"), (1, "MemoryError")], False, "not checked")
    assert failed == ("failed", "2 of 4 workers failed; worker 3: ValueError: no")
    # unfinished workers come first: the run did not end
    assert _said(4, [(3, "x")], False, "", unfinished=2) == (
        "interrupted", "2 workers still unfinished")
    assert _said(4, [], True, "fine", unfinished=1)[0] == "interrupted"


def test_a_map_run_leaves_the_burst_settings_empty_a_burst_run_names_them() -> None:
    assert identity(_cfg("map")) == {
        "app": "sleep", "mode": "map", "platform": "local", "workers": 4,
        "granularity": None, "backend": None, "repeat_index": 3}
    burst = identity(_cfg("burst"))
    assert (burst["mode"], burst["granularity"], burst["backend"]) == ("burst", 2, "redis")


def _activation(activation_id: str, submit: int, accepted: int, end: int | str) -> dict:
    return {"stage": "main", "activation_id": activation_id, "kind": "pack", "workers": 2,
            "submit_ms": submit, "accepted_ms": accepted, "start_ms": submit + 50,
            "end_ms": end, "status": "success"}


def _worker(stage: str, worker_id: int, start: int | str, error: str = "") -> dict:
    return {"stage": stage, "worker_id": worker_id, "activation_id": "a", "start_ms": start,
            "end_ms": 900, "status": "application error" if error else "success",
            "error": error}


def test_summary_columns_follow_from_the_row_files(tmp_path: Path) -> None:
    _write(tmp_path / "activations.csv", ACTIVATION_COLUMNS, [
        _activation("a", 1000, 1010, 1800),
        _activation("b", 1005, 1040, 1700),
        _activation("c", 1020, 1025, ""),  # never finished: no end
    ])
    _write(tmp_path / "workers.csv", WORKER_COLUMNS, [
        _worker("first", 0, 1100), _worker("first", 1, 1130),  # spread 30
        _worker("second", 0, 1500), _worker("second", 1, 1570, "ValueError: no"),  # spread 70
        _worker("third", 0, 1600),  # alone in its stage: spread 0
        _worker("fourth", 0, ""),  # never started
    ])
    steps = {step: 1.23456 for step in ("build", "platform_start", "deploy", "run", "validate",
                                        "platform_stop", "record", "total")}
    row = summarize(tmp_path, identity(_cfg("burst")), steps,
                    {"status": "ok", "message": "fine", "valid": True, "requests": 17})

    header, rows = _read_summary(tmp_path)
    assert header == SUMMARY_COLUMNS and len(rows) == 1
    written = rows[0]
    assert written["makespan_ms"] == "800.0"  # last end (1800) minus first submit (1000)
    assert written["invoke_spread_ms"] == "30.0"  # accepted 1010 .. 1040
    assert written["startup_spread_ms"] == "70.0"  # the largest of the stages' spreads
    assert (written["activations"], written["failed"]) == ("3", "1")
    assert written["build_ms"] == written["total_ms"] == "1.235"
    assert (written["status"], written["message"], written["requests"]) == ("ok", "fine", "17")
    assert (written["granularity"], written["backend"], written["repeat_index"]) == (
        "2", "redis", "3")
    # what the run did not give stays an empty cell, never a missing column
    assert written["build_cache"] == written["resumed"] == ""
    assert row["makespan_ms"] == 800.0 and row["resumed"] is None
    # written whole, then renamed: no partial file is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "activations.csv", "summary.csv", "workers.csv"]


def test_a_run_that_never_ran_has_a_summary_of_empty_cells(tmp_path: Path) -> None:
    row = summarize(tmp_path, identity(_cfg("map")), {"build": 5.0},
                    {"status": "error", "message": "config error: no such app"})
    header, rows = _read_summary(tmp_path)
    assert header == SUMMARY_COLUMNS
    written = rows[0]
    for column in ("makespan_ms", "invoke_spread_ms", "startup_spread_ms", "granularity",
                   "backend", "run_ms"):
        assert written[column] == "", column
    assert (written["activations"], written["failed"], written["build_ms"]) == ("0", "0", "5.0")
    assert written["status"] == "error" and math.isnan(row["makespan_ms"])


def test_a_stage_whose_workers_never_started_does_not_hide_the_others(tmp_path: Path) -> None:
    # times from a clock of the test's own, near zero
    _write(tmp_path / "activations.csv", ACTIVATION_COLUMNS, [
        _activation("a", 1, 4, 20), _activation("b", 2, 10, 12)])
    _write(tmp_path / "workers.csv", WORKER_COLUMNS, [
        _worker("gone", 0, ""), _worker("main", 0, 3), _worker("main", 1, 7)])
    summarize(tmp_path, identity(_cfg("burst")), {}, {"status": "ok"})
    written = _read_summary(tmp_path)[1][0]
    assert (written["startup_spread_ms"], written["invoke_spread_ms"]) == ("4.0", "6.0")
    assert written["makespan_ms"] == "19.0"


def test_a_run_whose_every_invocation_was_refused_has_no_makespan(tmp_path: Path) -> None:
    refused = {"stage": "main", "kind": "map", "workers": 1, "submit_ms": 1000,
               "status": "refused", "error": "429 Too Many Requests"}
    _write(tmp_path / "activations.csv", ACTIVATION_COLUMNS, [refused, refused])
    _write(tmp_path / "workers.csv", WORKER_COLUMNS, [
        _worker("main", 0, "", "429 Too Many Requests"),
        _worker("main", 1, "", "429 Too Many Requests")])
    summarize(tmp_path, identity(_cfg("map")), {}, {"status": "failed"})
    written = _read_summary(tmp_path)[1][0]
    assert (written["makespan_ms"], written["invoke_spread_ms"], written["startup_spread_ms"]) \
        == ("", "", "")
    assert (written["activations"], written["failed"]) == ("2", "2")


def test_an_unknown_column_is_refused_and_the_old_summary_kept(tmp_path: Path) -> None:
    summarize(tmp_path, identity(_cfg("map")), {}, {"status": "ok"})
    before = (tmp_path / "summary.csv").read_text()
    with pytest.raises(ValueError, match=r"not in SUMMARY_COLUMNS: \['colour', 'size'\]"):
        summarize(tmp_path, identity(_cfg("map")), {}, {"status": "ok", "size": 1, "colour": 2})
    assert (tmp_path / "summary.csv").read_text() == before
