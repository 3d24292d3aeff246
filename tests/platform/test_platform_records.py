"""The activation record as a client reads it (GET /activations/<id>), field by field, and
the list view of it; the embedded platform builds both in runner/platform/records.py."""

from __future__ import annotations

from pathlib import Path

from runner.platform.actions import DEFAULT_LIMITS, Action
from runner.platform.containers import Span
from runner.platform.records import (
    APPLICATION_ERROR,
    DEVELOPER_ERROR,
    INTERNAL_ERROR,
    SUCCESS,
    Finished,
    activation_record,
    brief,
    interpret,
    pack_code,
    response,
)
from runner.platform.runtimes import Runtime

ACTION = Action(
    "guest", "probe", "0.0.3", 1, {"kind": "python:3"}, "", Runtime(Path("."), ("x",), False,
                                                                      False),
    {**DEFAULT_LIMITS, "memory": 512}, [], [], 0,
)


def _finished(**changes: object) -> Finished:
    given: dict = {"activation_id": "f" * 32, "accepted_ms": 1000, "run_start_ms": 1300,
                   "end_ms": 1900, "init": None, "timed_out": False, "code": SUCCESS,
                   "result": {"x": 1}, "logs": ["2026 stdout: hi"]}
    given.update(changes)
    return Finished(**given)


def test_a_warm_activations_record_has_openwhisks_fields() -> None:
    record = activation_record(ACTION, "someone", _finished())
    assert record == {
        "activationId": "f" * 32, "namespace": "guest", "name": "probe", "version": "0.0.3",
        "subject": "someone", "publish": False, "start": 1300, "end": 1900, "duration": 600,
        "response": {"status": "success", "statusCode": 0, "success": True,
                     "result": {"x": 1}},
        "logs": ["2026 stdout: hi"],
        "annotations": [
            {"key": "path", "value": "guest/probe"},
            {"key": "waitTime", "value": 300},
            {"key": "kind", "value": "python:3"},
            {"key": "limits", "value": {**DEFAULT_LIMITS, "memory": 512}},
            {"key": "timeout", "value": False},
        ],
    }


def test_a_cold_pack_that_timed_out_names_its_init_and_its_workers() -> None:
    burst = {"burst_id": "b1", "group_id": 2, "workers": [4, 7]}
    record = activation_record(ACTION, "guest", _finished(
        init=Span(1100, 1250), timed_out=True, code=DEVELOPER_ERROR,
        result={"error": "The action exceeded its time limits of 60000 milliseconds."},
        burst=burst))
    notes = [(a["key"], a["value"]) for a in record["annotations"]]
    assert notes[-2:] == [("initTime", 150), ("burst", burst)]
    assert dict(notes)["waitTime"] == 100  # accepted at 1000, initialization from 1100
    assert dict(notes)["timeout"] is True
    assert (record["start"], record["duration"]) == (1150, 750)
    assert record["response"] == {
        "status": "action developer error", "statusCode": 2, "success": False,
        "result": {"error": "The action exceeded its time limits of 60000 milliseconds."}}


def test_a_container_that_never_started_waits_no_negative_time() -> None:
    record = activation_record(ACTION, "guest", _finished(run_start_ms=900, end_ms=900,
                                                          code=INTERNAL_ERROR, result=None))
    notes = {a["key"]: a["value"] for a in record["annotations"]}
    assert notes["waitTime"] == 0 and record["duration"] == 0
    assert record["response"]["status"] == "whisk internal error"
    assert record["response"]["success"] is False


def test_every_status_code_has_openwhisks_name() -> None:
    assert [response(code, None)["status"] for code in range(4)] == [
        "success", "application error", "action developer error", "whisk internal error"]
    assert [response(code, None)["success"] for code in range(4)] == [True, False, False, False]
    assert response(APPLICATION_ERROR, {"error": "x"})["statusCode"] == 1


def test_the_list_view_drops_response_and_logs_but_keeps_the_status_code() -> None:
    record = activation_record(ACTION, "guest", _finished(code=APPLICATION_ERROR,
                                                          result={"error": "no"}))
    view = brief(record)
    assert "response" not in view and "logs" not in view
    assert view["statusCode"] == 1
    assert {k: v for k, v in view.items() if k != "statusCode"} == {
        k: v for k, v in record.items() if k not in ("response", "logs")}
    assert "response" in record, "the stored record keeps them"


def test_an_error_key_makes_a_map_answer_an_application_error_whatever_its_value() -> None:
    assert interpret(b'{"error": ""}', pack=False) == (APPLICATION_ERROR, {"error": ""})
    assert interpret(b'{"error": null}', pack=False)[0] == APPLICATION_ERROR
    assert interpret(b'{"errors": 1}', pack=False)[0] == SUCCESS
    assert interpret(b"[]", pack=True) == (SUCCESS, [])


def test_an_answer_that_is_not_json_is_shown_cut_to_200_bytes() -> None:
    code, result = interpret(b"\xff" + b"a" * 300, pack=False)
    assert code == DEVELOPER_ERROR
    assert result == {"error": "The action did not produce a valid JSON response: "
                               + "\ufffd" + "a" * 199}
    assert interpret(b"7", pack=False)[0] == DEVELOPER_ERROR


def test_a_packs_status_is_its_worst_workers() -> None:
    limit = {"error": "The action exceeded its time limits", "status": "action developer error"}
    raised = {"error": "ValueError: no"}
    assert pack_code([{"x": 1}, 3, None, {"error": ""}]) == SUCCESS
    assert pack_code([raised, limit]) == DEVELOPER_ERROR
    assert pack_code([limit, raised]) == DEVELOPER_ERROR  # a later error never lowers it
    assert pack_code([{"error": "x", "status": "application error"}]) == APPLICATION_ERROR
    assert pack_code([{"status": "action developer error"}]) == SUCCESS  # no error, no blame
