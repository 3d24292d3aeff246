"""Map invocations: blocking and not, failures, timeouts, warm reuse."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any


def annotations(record: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: a["value"] for a in record["annotations"]}


def test_nonblocking_invoke_then_record_result_and_logs(platform: Any) -> None:
    assert platform.put("slow", parameters=[{"key": "who", "value": "default"}]).status_code == 200
    accepted = platform.invoke("slow", {"sleep": 0.3, "say": "hi there"})
    assert accepted.status_code == 202
    activation_id = accepted.json()["activationId"]
    assert re.fullmatch(r"[0-9a-f]{32}", activation_id)
    # Like OpenWhisk, the record exists only once the activation has ended.
    assert platform.http.get(f"{platform.base}/activations/{activation_id}").status_code == 404

    record = platform.activation(activation_id)
    assert record["activationId"] == activation_id
    assert (record["namespace"], record["name"], record["version"]) == ("guest", "slow", "0.0.1")
    assert record["subject"] and record["publish"] is False
    assert record["duration"] == record["end"] - record["start"] >= 300
    assert record["response"]["status"] == "success"
    assert record["response"]["statusCode"] == 0 and record["response"]["success"] is True
    result = record["response"]["result"]
    assert result["params"] == {"who": "default", "sleep": 0.3, "say": "hi there"}
    assert result["line"]["activation_id"] == activation_id
    assert result["line"]["action_name"] == "/guest/slow"
    assert result["line"]["namespace"] == "guest"
    assert result["line"]["api_key"] == ":".join(platform.auth)
    notes = annotations(record)
    # The line is written after the cold start, which the record's duration includes.
    assert result["line"]["deadline"] == str(record["start"] + notes["initTime"] + 60000)
    assert re.fullmatch(r"[0-9a-f]{32}", result["line"]["transaction_id"])
    assert result["api_host"] == platform.apihost
    assert notes["path"] == "guest/slow"
    assert notes["kind"] == "blackbox"
    assert notes["timeout"] is False
    assert notes["limits"]["timeout"] == 60000
    assert notes["waitTime"] >= 0 and "initTime" in notes

    base = f"{platform.base}/activations/{activation_id}"
    assert platform.http.get(f"{base}/result").json() == record["response"]
    logs = platform.http.get(f"{base}/logs").json()["logs"]
    assert len(logs) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z stdout: hi there", logs[0])
    assert logs[1].endswith(" stderr: to stderr")


def test_blocking_result_only_and_wait_fallback(platform: Any) -> None:
    platform.put("quick", parameters=[{"key": "a", "value": 1}, {"key": "b", "value": 2}])
    answer = platform.invoke("quick", {"b": 3}, blocking="true", result="true")
    assert answer.status_code == 200
    assert answer.json()["params"] == {"a": 1, "b": 3}
    full = platform.invoke("quick", {}, blocking="true")
    assert full.status_code == 200
    assert full.json()["response"]["result"]["params"] == {"a": 1, "b": 2}
    # The blocking wait is shorter than the activation: fall back to 202.
    late = platform.invoke("quick", {"sleep": 0.5}, blocking="true", timeout="50")
    assert late.status_code == 202
    assert platform.activation(late.json()["activationId"])["response"]["status"] == "success"


def test_application_error_is_502(platform: Any) -> None:
    platform.put("fails")
    response = platform.invoke("fails", {"error": "boom"}, blocking="true")
    assert response.status_code == 502
    record = response.json()
    assert record["response"]["status"] == "application error"
    assert record["response"]["statusCode"] == 1
    assert record["response"]["result"] == {"error": "boom"}


def test_exit_without_answer_and_garbage_are_developer_errors(platform: Any) -> None:
    platform.put("dies")
    response = platform.invoke("dies", {"exit": 3}, blocking="true")
    assert response.status_code == 502
    outcome = response.json()["response"]
    assert outcome["status"] == "action developer error" and outcome["statusCode"] == 2
    assert outcome["result"]["error"].startswith(
        "The action did not produce a valid response and exited unexpectedly"
    )
    assert "exit code 3" in outcome["result"]["error"]

    garbage = platform.invoke("dies", {"garbage": True}, blocking="true").json()["response"]
    assert garbage["status"] == "action developer error"
    assert garbage["result"]["error"] == (
        "The action did not produce a valid JSON response: this is not json"
    )
    # A broken process is discarded; the next activation gets a fresh one.
    assert platform.invoke("dies", {}, blocking="true").status_code == 200


def test_timeout_kills_the_process_group(platform: Any, tmp_path: Path) -> None:
    platform.put("sleepy", limits={"timeout": 400})
    pidfile = tmp_path / "pids"
    begin = time.monotonic()
    params = {"sleep": 30, "pidfile": str(pidfile), "spawn": True}
    response = platform.invoke("sleepy", params, blocking="true")
    assert time.monotonic() - begin < 5
    assert response.status_code == 502
    record = response.json()
    assert record["response"]["status"] == "action developer error"
    assert record["response"]["result"] == {
        "error": "The action exceeded its time limits of 400 milliseconds."
    }
    assert annotations(record)["timeout"] is True
    assert any("stdout: hello" in line for line in record["logs"])
    pids = [int(p) for p in pidfile.read_text().split()]
    deadline = time.monotonic() + 3
    while any(platform.alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(platform.alive(pid) for pid in pids)


def test_warm_reuse_with_ack_and_update_retires(platform: Any) -> None:
    platform.put("warm", annotations=[{"key": "__OW_WAIT_FOR_ACK", "value": True}])
    first = platform.invoke("warm", {}, blocking="true").json()
    second = platform.invoke("warm", {}, blocking="true").json()
    assert "initTime" in annotations(first)
    assert "initTime" not in annotations(second)
    pid = first["response"]["result"]["pid"]
    assert second["response"]["result"]["pid"] == pid
    assert first["response"]["result"]["ack"] == "true"
    # The action runs with the platform's interpreter first on PATH.
    assert Path(first["response"]["result"]["python"]).parent == Path(sys.executable).parent

    # An update without annotations would keep them: drop the ack explicitly.
    assert platform.put("warm", annotations=[]).json()["version"] == "0.0.2"
    deadline = time.monotonic() + 3
    while platform.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not platform.alive(pid)
    third = platform.invoke("warm", {}, blocking="true").json()
    assert third["version"] == "0.0.2"
    assert "initTime" in annotations(third)
    assert third["response"]["result"]["pid"] != pid
    assert third["response"]["result"]["ack"] is None


def _invoke_all(server: Any, name: str, params: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send every invocation at once (one thread each), then collect the records."""
    with ThreadPoolExecutor(len(params)) as pool:
        answers = list(pool.map(lambda p: server.invoke(name, p), params))
    return [server.activation(a.json()["activationId"], timeout=30) for a in answers]


def test_queued_activations_take_containers_that_free_up(
    platform_factory: Callable[..., Any],
) -> None:
    # One cold start at a time: quick activations queued behind it are served by the
    # containers that exist rather than each starting its own.
    server = platform_factory("--max-starting", "1")
    server.put("quick", annotations=[{"key": "__OW_WAIT_FOR_ACK", "value": True}])
    records = _invoke_all(server, "quick", [{"n": i} for i in range(16)])
    assert all(r["response"]["status"] == "success" for r in records)
    pids = {r["response"]["result"]["pid"] for r in records}
    assert len(pids) <= 2
    assert sum("initTime" in annotations(r) for r in records) == len(pids)


def test_long_activations_still_run_side_by_side(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory()
    server.put("long", annotations=[{"key": "__OW_WAIT_FOR_ACK", "value": True}])
    records = _invoke_all(server, "long", [{"sleep": 2}] * 6)
    assert len({r["response"]["result"]["pid"] for r in records}) == 6
    assert max(r["start"] for r in records) < min(r["end"] for r in records)
