"""activations.csv, workers.csv, results.jsonl and logs/ from activation records
(README, "What a run writes"), read back as a user reads them.

The records are shaped as the embedded platform and OpenWhisk write them
(runner/platform/records.py): a response, timing and annotations.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest

from runner.rundir.files import WriteError
from runner.rundir.recorder import (
    ACTIVATION_COLUMNS,
    WORKER_COLUMNS,
    Recorder,
    Submission,
    widen_workers,
)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), list(reader)


def _results(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "results.jsonl").read_text().splitlines()]


def _record(result: Any, success: bool, status: str = "success", init: Any = None,
            burst: Any = None) -> dict[str, Any]:
    annotations = [  # in the platform's order (runner/platform/records.py)
        {"key": "path", "value": "guest/probe"}, {"key": "waitTime", "value": 7},
        {"key": "kind", "value": "python:3"}, {"key": "limits", "value": {"memory": 256}},
        {"key": "timeout", "value": False}]
    if init is not None:
        annotations.append({"key": "initTime", "value": init})
    if burst is not None:
        annotations.append({"key": "burst", "value": burst})
    record = {"activationId": "a1", "start": 1000, "end": 1250, "duration": 250,
              "response": {"status": status, "success": success, "result": result},
              "annotations": annotations}
    return json.loads(json.dumps(record))  # as the client reads it from the HTTP answer


def _map(worker_id: int = 3) -> Submission:
    return Submission("main", "map", [worker_id], None, submit_ms=900, accepted_ms=910,
                      activation_id="a1")


def _pack(workers: list[int]) -> Submission:
    return Submission("main", "pack", workers, 1, submit_ms=900, accepted_ms=910,
                      activation_id="a1")


def test_a_map_worker_is_one_row_in_each_file_on_disk_before_the_run_ends(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    outcomes = recorder.finished(_map(), _record({"answer": 42}, True, init=30), detected_ms=1260)
    # flushed at once: a run killed now keeps the rows
    header, activations = _rows(tmp_path / "activations.csv")
    assert header == ACTIVATION_COLUMNS
    assert activations == [{
        "stage": "main", "activation_id": "a1", "kind": "map", "workers": "1",
        "submit_ms": "900", "accepted_ms": "910", "start_ms": "1000", "end_ms": "1250",
        "duration_ms": "250", "wait_ms": "7", "init_ms": "30", "detected_ms": "1260",
        "status": "success", "error": ""}]
    header, workers = _rows(tmp_path / "workers.csv")
    assert header == WORKER_COLUMNS
    # a cold start's record begins before the initialization; the worker starts after it
    assert workers == [{"stage": "main", "worker_id": "3", "activation_id": "a1", "pack": "",
                        "start_ms": "1030", "end_ms": "1250", "status": "success", "error": ""}]
    assert _results(tmp_path) == [{"stage": "main", "worker_id": 3, "result": {"answer": 42}}]
    assert [(o.worker_id, o.result, o.ok) for o in outcomes] == [(3, {"answer": 42}, True)]
    recorder.close()


def test_a_failed_map_worker_says_the_actions_error(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    text = recorder.finished(_map(0), _record({"error": "ValueError: no"}, False,
                                              "application error"), 1300)
    nested = recorder.finished(_map(1), _record({"error": {"code": 5}}, False,
                                                "application error"), 1300)
    plain = recorder.finished(_map(2), _record(["x" * 600], False, "action developer error"),
                              1300)
    recorder.close()
    _, activations = _rows(tmp_path / "activations.csv")
    assert [a["error"] for a in activations] == [
        "ValueError: no", '{"code": 5}', json.dumps(["x" * 600])[:500]]
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["status"], w["error"]) for w in workers] == [
        ("application error", "ValueError: no"), ("application error", '{"code": 5}'),
        ("action developer error", json.dumps(["x" * 600])[:500])]
    assert not (tmp_path / "results.jsonl").read_text()  # only answers are results
    assert [o.ok for o in (*text, *nested, *plain)] == [False, False, False]
    # a warm start (no initTime) starts at the record's start
    assert {w["start_ms"] for w in workers} == {"1000"}


def _envelope(worker_id: int, result: Any, error: str | None = None, **extra: Any) -> dict:
    return {"worker_id": worker_id, "start_ms": 1100 + worker_id, "end_ms": 1200 + worker_id,
            "result": result, "error": error, **extra}


def test_a_pack_is_one_activation_row_and_a_row_per_worker(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    entries = [
        _envelope(4, {"x": 1}),
        _envelope(5, None, "ValueError: no"),
        _envelope(6, None, "The action exceeded its time limits of 1500 milliseconds.",
                  status="action developer error"),
    ]
    outcomes = recorder.finished(_pack([4, 5, 6]), _record(entries, False, "application error"),
                                 1300)
    recorder.close()
    _, activations = _rows(tmp_path / "activations.csv")
    assert (activations[0]["kind"], activations[0]["workers"]) == ("pack", "3")
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["worker_id"], w["pack"], w["start_ms"], w["end_ms"], w["status"], w["error"])
            for w in workers] == [
        ("4", "1", "1104", "1204", "success", ""),
        ("5", "1", "1105", "1205", "application error", "ValueError: no"),
        ("6", "1", "1106", "1206", "action developer error",
         "The action exceeded its time limits of 1500 milliseconds."),
    ]
    assert _results(tmp_path) == [{"stage": "main", "worker_id": 4, "result": {"x": 1}}]
    assert [o.ok for o in outcomes] == [True, False, False]


def test_a_pack_of_plain_results_and_the_workers_the_platform_says_it_held(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    # the platform joined the pack: it held workers 2..4, not the 0..1 asked for
    record = _record([{"a": 1}, 2, {"a": 3}], True, init=10, burst={"workers": [2, 4]})
    recorder.finished(_pack([0, 1]), record, 1300)
    recorder.close()
    _, activations = _rows(tmp_path / "activations.csv")
    assert activations[0]["workers"] == "3"
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["worker_id"], w["start_ms"], w["status"]) for w in workers] == [
        ("2", "1010", "success"), ("3", "1010", "success"), ("4", "1010", "success")]
    assert [r["result"] for r in _results(tmp_path)] == [{"a": 1}, 2, {"a": 3}]


def test_a_pack_that_answers_for_the_wrong_workers_fails_each_of_them(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    short = recorder.finished(_pack([0, 1, 2]), _record([{}, {}], True), 1300)
    crashed = recorder.finished(_pack([3]), _record({"error": "exec died"}, False,
                                                    "action developer error"), 1300)
    odd = recorder.finished(_pack([4, 5]), _record([{}], True, burst={"workers": [4]}), 1300)
    three = recorder.finished(_pack([7]), _record([{}, {}], True, burst={"workers": [7, 8, 9]}),
                              1300)
    long = recorder.finished(_pack([6]), _record([{}, {}], True), 1300)
    recorder.close()
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["worker_id"], w["status"], w["error"]) for w in workers] == [
        ("0", "success", "pack answered 2 results for 3 workers"),
        ("1", "success", "pack answered 2 results for 3 workers"),
        ("2", "success", "pack answered 2 results for 3 workers"),
        ("3", "action developer error", "exec died"),
        # a burst annotation that is not a [first, last] range leaves the workers asked for
        ("4", "success", "pack answered 1 results for 2 workers"),
        ("5", "success", "pack answered 1 results for 2 workers"),
        ("7", "success", "pack answered 2 results for 1 workers"),
        ("6", "success", "pack answered 2 results for 1 workers"),
    ]
    assert not any(o.ok for o in (*short, *crashed, *odd, *long, *three))


def test_an_activation_that_never_ran_is_a_failed_row_for_each_worker(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    sub = Submission("second", "pack", [0, 1], 0, submit_ms=500)
    outcomes = recorder.failed(sub, "refused", "429 Too Many Requests")
    recorder.close()
    _, activations = _rows(tmp_path / "activations.csv")
    assert activations == [{
        "stage": "second", "activation_id": "", "kind": "pack", "workers": "2",
        "submit_ms": "500", "accepted_ms": "", "start_ms": "", "end_ms": "", "duration_ms": "",
        "wait_ms": "", "init_ms": "", "detected_ms": "", "status": "refused",
        "error": "429 Too Many Requests"}]
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["worker_id"], w["pack"], w["status"], w["error"]) for w in workers] == [
        ("0", "0", "refused", "429 Too Many Requests"),
        ("1", "0", "refused", "429 Too Many Requests")]
    assert [(o.worker_id, o.ok, o.error) for o in outcomes] == [
        (0, False, "429 Too Many Requests"), (1, False, "429 Too Many Requests")]


def test_a_resumed_run_appends_to_the_rows_with_one_header(tmp_path: Path) -> None:
    first = Recorder(tmp_path)
    first.finished(_map(0), _record({"n": 0}, True), 1300)
    first.close()
    again = Recorder(tmp_path, append=True)
    again.finished(_map(1), _record({"n": 1}, True), 1400)
    again.close()
    for name in ("activations.csv", "workers.csv"):
        lines = (tmp_path / name).read_text().splitlines()
        assert len(lines) == 3 and lines[0].startswith("stage,"), name
    assert [r["worker_id"] for r in _results(tmp_path)] == [0, 1]
    # a new session, not a resume, starts the files again
    fresh = Recorder(tmp_path)
    fresh.finished(_map(2), _record({"n": 2}, True), 1500)
    fresh.close()
    assert len((tmp_path / "workers.csv").read_text().splitlines()) == 2
    assert [r["worker_id"] for r in _results(tmp_path)] == [2]


def test_a_resume_of_a_run_with_no_rows_yet_writes_the_header(tmp_path: Path) -> None:
    (tmp_path / "workers.csv").write_text("")
    recorder = Recorder(tmp_path, append=True)
    recorder.finished(_map(0), _record({"n": 0}, True), 1300)
    recorder.close()
    header, rows = _rows(tmp_path / "workers.csv")
    assert header == WORKER_COLUMNS and len(rows) == 1


def test_the_apps_scalar_results_become_workers_columns(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.finished(_map(0), _record({"doubled": 8, "note": "a", "ok": True, "items": [1],
                                        "status": "mine", "ratio": 0.5}, True), 1300)
    recorder.finished(_map(1), _record({"doubled": 9, "extra": 1}, True), 1300)
    recorder.finished(_map(2), _record([1, 2], True), 1300)  # not an object: no columns
    recorder.close()
    widen_workers(tmp_path)
    header, workers = _rows(tmp_path / "workers.csv")
    # lists are not columns, nor keys that would overwrite the runner's own
    assert header == [*WORKER_COLUMNS, "doubled", "note", "ok", "ratio", "extra"]
    assert [(w["doubled"], w["note"], w["ok"], w["ratio"], w["extra"], w["status"])
            for w in workers] == [
        ("8", "a", "True", "0.5", "", "success"), ("9", "", "", "", "1", "success"),
        ("", "", "", "", "", "success")]
    widen_workers(tmp_path)  # widening again changes nothing
    assert _rows(tmp_path / "workers.csv") == (header, workers)


def test_a_later_result_of_the_same_worker_wins(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.finished(_map(0), _record({"n": 1}, True), 1300)
    recorder.finished(_map(0), _record({"n": 2}, True), 1400)
    recorder.close()
    widen_workers(tmp_path)
    _, workers = _rows(tmp_path / "workers.csv")
    assert [w["n"] for w in workers] == ["2", "2"]


def test_no_results_leave_workers_csv_as_it_was(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.failed(_map(0), "refused", "no")
    recorder.close()
    before = (tmp_path / "workers.csv").read_text()
    widen_workers(tmp_path)
    assert (tmp_path / "workers.csv").read_text() == before
    (tmp_path / "results.jsonl").unlink()
    widen_workers(tmp_path)
    assert (tmp_path / "workers.csv").read_text() == before


def test_a_failed_activations_logs_are_saved_one_line_each(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.save_logs("a1", ["first", "second"])
    recorder.save_logs("a2", [])
    recorder.close()
    assert (tmp_path / "logs" / "a1.log").read_text() == "first\nsecond\n"
    assert (tmp_path / "logs" / "a2.log").read_text() == ""


def test_a_start_that_is_not_a_number_is_kept_as_the_record_says(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    flagged = _record({}, True, init=True)  # a boolean is not a time
    recorder.finished(_map(0), flagged, 1300)
    odd = {**_record({}, True, init=20), "start": "late"}
    recorder.finished(_map(1), odd, 1300)
    recorder.close()
    _, workers = _rows(tmp_path / "workers.csv")
    assert [w["start_ms"] for w in workers] == ["1000", "late"]


def test_an_answer_with_no_result_is_an_error_that_says_null(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    record = _record(None, False, "whisk internal error")
    del record["response"]["result"]
    recorder.finished(_map(0), record, 1300)
    recorder.close()
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["status"], w["error"]) for w in workers] == [("whisk internal error", "null")]


def test_a_resumed_session_records_each_activation_as_the_first_would_have(tmp_path: Path) -> None:
    """Resume rebuilds its submissions from activations.csv (runner/pipeline/resume.py)."""
    first = Recorder(tmp_path)
    first.failed(_map(0), "unfinished", "still running when the runner stopped")
    first.failed(_pack([1, 2]), "unfinished", "still running when the runner stopped")
    first.close()
    _, rows = _rows(tmp_path / "activations.csv")
    assert [row["activation_id"] for row in rows] == ["a1", "a1"]  # accepted, never ended
    again = Recorder(tmp_path, append=True)
    # the pack's record says it held workers 1..3: the platform's word wins here too
    answers = [_record({"n": 0}, True),
               _record([{"n": 1}, {"n": 2}, {"n": 3}], True, burst={"workers": [1, 3]})]
    for row, workers, record in zip(rows, ([0], [1, 2]), answers, strict=True):
        sub = Submission(row["stage"], row["kind"], workers, None, int(row["submit_ms"]),
                         activation_id="a1")
        again.finished(sub, record, 1300)
    again.close()
    _, workers = _rows(tmp_path / "workers.csv")
    assert [(w["worker_id"], w["status"], w["error"]) for w in workers[3:]] == [
        ("0", "success", ""), ("1", "success", ""), ("2", "success", ""), ("3", "success", "")]
    assert [r["result"] for r in _results(tmp_path)] == [{"n": n} for n in range(4)]


def _open_files_under(folder: Path) -> list[str]:
    """The files under `folder` this process still holds open (Linux's /proc/self/fd)."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the descriptor listdir itself used, now closed
            continue
        if target.startswith(f"{folder}/"):
            held.append(target)
    return held


def test_closing_closes_every_file_and_names_the_first_that_failed(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path)
    recorder.finished(_map(0), _record({"n": 0}, True), 1300)
    assert len(_open_files_under(tmp_path)) == 3

    def failing(table: Any, name: str) -> Any:
        """The table's own close, then the error a full disk gives when its rows are flushed."""
        close = table.close

        def close_and_fail() -> None:
            close()
            raise WriteError(f"cannot write {tmp_path / name}: No space left on device")
        return close_and_fail

    recorder.activations.close = failing(recorder.activations, "activations.csv")
    recorder.workers.close = failing(recorder.workers, "workers.csv")
    with pytest.raises(WriteError, match=r"^cannot write .*/activations\.csv: No space left"):
        recorder.close()
    assert _open_files_under(tmp_path) == [], "every file is closed, results.jsonl too"


def test_a_pack_of_more_than_256_workers_is_recorded_worker_by_worker(tmp_path: Path) -> None:
    """Counts past 256 are ints Python does not share: compared by value, they match."""
    recorder = Recorder(tmp_path)
    workers = list(range(300))
    recorder.finished(_pack(workers), _record([{"w": w} for w in workers], True), 1300)
    recorder.close()
    _, rows = _rows(tmp_path / "workers.csv")
    assert [(row["worker_id"], row["status"], row["error"]) for row in rows] == [
        (str(w), "success", "") for w in workers]


def test_a_row_the_disk_cannot_take_is_cut_back_and_the_next_one_follows_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk mid-row: what is on disk stays whole rows, and rows written once there is
    room again start where the last whole one ended (no half row, no hole of zeros)."""
    recorder = Recorder(tmp_path)
    recorder.failed(Submission("main", "map", [0], None, submit_ms=1), "refused", "first")
    whole = (tmp_path / "workers.csv").read_bytes()
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd: int, data: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 1:  # half the row goes in, as a filling disk takes it
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_then_full)
    with pytest.raises(WriteError, match=r"^cannot write .*/activations\.csv: No space left"):
        recorder.failed(Submission("main", "map", [1], None, submit_ms=2), "refused", "second")
    monkeypatch.setattr(os, "write", real_write)
    assert (tmp_path / "workers.csv").read_bytes() == whole
    recorder.failed(Submission("main", "map", [2], None, submit_ms=3), "refused", "third")
    recorder.close()
    for name in ("activations.csv", "workers.csv"):
        data = (tmp_path / name).read_bytes()
        assert b"\0" not in data and data.endswith(b"\n"), name
    _, activations = _rows(tmp_path / "activations.csv")
    assert [row["error"] for row in activations] == ["first", "third"]
    _, workers = _rows(tmp_path / "workers.csv")
    assert [row["worker_id"] for row in workers] == ["0", "2"]


def test_row_files_are_readable_by_everyone_and_executable_by_no_one(tmp_path: Path) -> None:
    before = os.umask(0o022)
    try:
        recorder = Recorder(tmp_path)
        recorder.failed(Submission("main", "map", [0], None, submit_ms=1), "refused", "x")
        recorder.close()
    finally:
        os.umask(before)
    for name in ("activations.csv", "workers.csv", "results.jsonl"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644, name
