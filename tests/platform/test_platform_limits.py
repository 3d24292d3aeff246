"""Limits as OpenWhisk applies them: memory, payload and result sizes, throttles."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from runner.platform.limits import PER_CPU_ALLOWANCE_MB

MEMORY_EXHAUSTED = "The action exhausted its memory and was aborted."


def test_rlimit_memory_limit_kills_the_action_and_says_so(
    platform_factory: Callable[..., Any],
) -> None:
    """The fallback without cgroups: RLIMIT_DATA, and the action's last words in its logs."""
    server = platform_factory("--memory-limit", "rlimit")
    server.put("hungry", limits={"memory": 128})
    fits = server.invoke("hungry", {"alloc_mb": 64}, blocking="true")
    assert fits.status_code == 200, fits.text
    # Far beyond the limit and the allowance for native libraries' per-CPU buffers.
    too_much = 2 * (128 + PER_CPU_ALLOWANCE_MB * len(os.sched_getaffinity(0)))
    died = server.invoke("hungry", {"alloc_mb": too_much}, blocking="true")
    assert died.status_code == 502
    response = died.json()["response"]
    assert response["status"] == "action developer error"
    assert response["result"] == {"error": MEMORY_EXHAUSTED}
    assert any("MemoryError" in line for line in died.json()["logs"])


def test_memory_limit_kills_the_action_and_says_so(platform: Any) -> None:
    """With the default limit (a cgroup where possible, else RLIMIT_DATA)."""
    platform.put("hungry", limits={"memory": 128})
    fits = platform.invoke("hungry", {"alloc_mb": 64}, blocking="true")
    assert fits.status_code == 200, fits.text
    too_much = 2 * (128 + PER_CPU_ALLOWANCE_MB * len(os.sched_getaffinity(0)))
    died = platform.invoke("hungry", {"alloc_mb": too_much}, blocking="true")
    assert died.status_code == 502
    assert died.json()["response"]["result"] == {"error": MEMORY_EXHAUSTED}


NUMPY_CODE = "import numpy\n\ndef main(args):\n    return {'sum': float(numpy.ones(1000).sum())}\n"


def test_numpy_imports_at_the_smallest_memory_limit(platform: Any) -> None:
    body = {"exec": {"kind": "python:3", "code": NUMPY_CODE}, "limits": {"memory": 128}}
    assert platform.http.put(f"{platform.base}/actions/np?overwrite=true", json=body).ok
    answer = platform.invoke("np", {}, blocking="true", result="true")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sum": 1000.0}


def test_numpy_imports_at_the_smallest_rlimit(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory("--memory-limit", "rlimit")
    body = {"exec": {"kind": "python:3", "code": NUMPY_CODE}, "limits": {"memory": 128}}
    assert server.http.put(f"{server.base}/actions/np?overwrite=true", json=body).ok
    answer = server.invoke("np", {}, blocking="true", result="true")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"sum": 1000.0}


def test_request_over_the_payload_limit_is_413(platform: Any) -> None:
    platform.put("payload")
    body = {"blob": "x" * (1024 * 1024)}
    refused = platform.invoke("payload", body)
    assert refused.status_code == 413
    size = len(refused.request.body)
    assert refused.json()["error"] == f"Request larger than allowed: {size} > 1048576 bytes."
    burst = platform.invoke("payload", {"value": [body]}, burst="true")
    assert burst.status_code == 413
    assert platform.invoke("payload", {"blob": "x" * 1000}).status_code == 202


def test_result_over_the_limit_is_a_developer_error(platform: Any) -> None:
    platform.put("verbose")
    pid = platform.invoke("verbose", {}, blocking="true").json()["response"]["result"]["pid"]
    big = platform.invoke("verbose", {"pad_kb": 1100}, blocking="true")
    assert big.status_code == 502
    error = big.json()["response"]["result"]["error"]
    length = int(error.split(": ")[1].split(" > ")[0])
    assert length > 1100 * 1024
    assert error == (
        "The action produced a response that exceeded the allowed length: "
        f"{length} > 1048576 bytes."
    )
    assert big.json()["response"]["status"] == "action developer error"
    # The process answered properly, so it stays warm.
    again = platform.invoke("verbose", {}, blocking="true").json()
    assert again["response"]["result"]["pid"] == pid


def test_limit_flags_change_the_sizes(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory("--max-payload-mb", "0.01", "--max-result-mb", "2")
    server.put("sizes")
    assert server.invoke("sizes", {"blob": "x" * 20_000}).status_code == 413
    assert server.invoke("sizes", {"pad_kb": 1100}, blocking="true").status_code == 200


def test_throttles_answer_429_and_limits_report_them(
    platform_factory: Callable[..., Any],
) -> None:
    server = platform_factory("--invocations-per-minute", "3", "--concurrent-invocations", "2")
    limits = server.http.get(f"{server.base}/limits").json()
    assert limits == {"invocationsPerMinute": 3, "concurrentInvocations": 2}
    server.put("throttled")
    running = [server.invoke("throttled", {"sleep": 1}) for _ in range(2)]
    assert all(r.status_code == 202 for r in running)
    crowded = server.invoke("throttled", {})
    assert crowded.status_code == 429
    assert crowded.json()["error"] == (
        "Too many concurrent requests in flight (count: 2, allowed: 2)."
    )
    assert isinstance(crowded.json()["code"], str)
    for answer in running:
        server.activation(answer.json()["activationId"])  # recorded: no longer in flight
    assert server.invoke("throttled", {}).status_code == 202
    too_often = server.invoke("throttled", {})
    assert too_often.status_code == 429
    assert too_often.json()["error"] == (
        "Too many requests in the last minute (count: 3, allowed: 3)."
    )
    assert server.invoke("throttled", {"value": [{}]}, burst="true").status_code == 429
