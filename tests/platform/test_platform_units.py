"""Pure parts of the platform: the activation index, answer statuses, record timing,
start decisions, throttles and limits, kind resolution."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.platform.actions import DEFAULT_LIMITS, Action
from runner.platform.cgroups import oom_kills
from runner.platform.containers import Span
from runner.platform.errors import ApiError
from runner.platform.limits import (
    MEMORY_EXHAUSTED,
    MIB,
    MemoryLimit,
    blame_limits,
    blame_memory,
    container_memory,
    died_of_memory,
)
from runner.platform.records import (
    APPLICATION_ERROR,
    DEVELOPER_ERROR,
    SUCCESS,
    Finished,
    activation_record,
    interpret,
    pack_code,
    waited_init,
)
from runner.platform.runtimes import Runtime, resolve_kind
from runner.platform.scaling import Demand, wants_start
from runner.platform.store import MemoryActivations
from runner.platform.throttles import Throttles


def _record(i: int, start: int, name: str) -> dict:
    return {"activationId": f"{i:032x}", "start": start, "name": name, "response": {}}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["a", "b"])), max_size=60),
    st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
    st.one_of(st.none(), st.integers(0, 50)),
    st.one_of(st.none(), st.integers(0, 50)),
    st.integers(1, 20),
    st.integers(0, 20),
)
def test_query_matches_a_full_sort(
    rows: list[tuple[int, str]],
    name: str | None,
    since: int | None,
    upto: int | None,
    limit: int,
    skip: int,
) -> None:
    store = MemoryActivations()
    records = [_record(i, start, n) for i, (start, n) in enumerate(rows)]
    for record in records:
        store.add(record)
    order = sorted(range(len(records)), key=lambda i: (records[i]["start"], i), reverse=True)
    expected = [
        records[i]
        for i in order
        if (name is None or records[i]["name"] == name)
        and (since is None or records[i]["start"] >= since)
        and (upto is None or records[i]["start"] <= upto)
    ][skip : skip + limit]
    assert store.query(name, since, upto, limit, skip) == expected


def test_query_on_ten_thousand_records_reads_only_the_page() -> None:
    store = MemoryActivations()
    rng = random.Random(7)
    for i in range(10_000):
        store.add(_record(i, 1_000_000 + i + rng.randint(-50, 50), "a" if i % 2 else "b"))
    page = store.query("a", None, None, 200, 100)
    assert len(page) == 200
    assert [r["start"] for r in page] == sorted((r["start"] for r in page), reverse=True)


def test_interpret_statuses() -> None:
    assert interpret(b'{"x": 1}', pack=False) == (0, {"x": 1})
    assert interpret(b'{"error": "no"}', pack=False)[0] == 1
    assert interpret(b"[1]", pack=False)[0] == 2
    assert interpret(b'[{"ok": 1}, {"error": ""}]', pack=True)[0] == 0
    assert interpret(b'[{"ok": 1}, {"error": "bad"}]', pack=True)[0] == 1
    assert interpret(b'{"x": 1}', pack=True)[0] == 2
    assert interpret(b"nope", pack=True)[1] == {
        "error": "The action did not produce a valid JSON response: nope"
    }


def test_an_activation_is_charged_only_the_cold_start_it_waited_for() -> None:
    start = Span(100, 150)
    assert waited_init(None, 90) is None
    assert waited_init(start, 90) == start  # accepted first: the whole start was its wait
    assert waited_init(start, 120) == Span(120, 150)  # accepted during the start
    assert waited_init(start, 150) == Span(150, 150)  # the same millisecond: still cold
    assert waited_init(Span(150, 150), 150) == Span(150, 150)
    assert waited_init(start, 151) is None  # the container was ready: a warm start
    assert waited_init(start, 400) is None


_ACTION = Action(
    "guest", "a", "0.0.1", 1, {"kind": "python:3"}, "", Runtime(Path("."), ("x",), False, False),
    dict(DEFAULT_LIMITS), [], [], 0,
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=5, max_size=5), st.booleans())
def test_records_time_a_cold_start_as_openwhisk_does(times: list[int], cold: bool) -> None:
    accepted, begin, ready, run_start, end = sorted(times)
    init = waited_init(Span(begin, ready), accepted) if cold else None
    run = Finished("0" * 32, accepted, run_start, end, init, False, 0, {}, [])
    record = activation_record(_ACTION, "guest", run)
    notes = {a["key"]: a["value"] for a in record["annotations"]}
    assert record["start"] + record["duration"] == record["end"] == end
    assert record["start"] >= accepted
    if init is None:
        assert "initTime" not in notes
        assert record["start"] == run_start and notes["waitTime"] == run_start - accepted
    else:
        assert notes["initTime"] == ready - begin
        assert record["start"] == run_start - notes["initTime"]  # duration includes init
        assert notes["waitTime"] == begin - accepted  # the wait ends where init begins


def test_default_kinds_resolve_to_their_family_runtime() -> None:
    assert resolve_kind("python:default") == "python:3"
    assert resolve_kind("nodejs:default") == "nodejs:20"
    for kept in ("python:3", "python:3.11", "blackbox", "unknown:default", "Python:default"):
        assert resolve_kind(kept) == kept


# 30 short activations waiting for the two ready containers of a warm action.
_SHORT = Demand(
    waiting=30, starting=0, ready=2, longest_busy_ms=1.0, run_ms=2.0, init_ms=50.0, gang=False
)


def _demand(**changes: Any) -> Demand:
    return replace(_SHORT, **changes)


def test_starts_follow_the_expected_wait() -> None:
    # Nothing to wait for: start. Nobody waiting beyond the starts under way: do not.
    assert wants_start(_demand(ready=0, run_ms=None, init_ms=None), cpus=2)
    assert not wants_start(_demand(waiting=3, starting=3), cpus=2)
    # Short activations on as many processes as CPUs: the queue drains faster than a start.
    assert not wants_start(_demand(waiting=10_000), cpus=2)
    # Short, but fewer processes than CPUs and a queue longer than a start: use the CPU.
    assert wants_start(_demand(ready=1, waiting=1000), cpus=2)
    assert not wants_start(_demand(ready=1, waiting=10), cpus=2)
    # Long activations (by history or by how long the running ones have run): start.
    assert wants_start(_demand(run_ms=1000.0), cpus=2)
    assert wants_start(_demand(run_ms=None, longest_busy_ms=40.0), cpus=2)
    assert not wants_start(_demand(run_ms=None, longest_busy_ms=5.0), cpus=2)
    # Burst packs must all run at once: always their own container.
    assert wants_start(_demand(gang=True, waiting=2, starting=1, ready=8), cpus=2)


def test_throttles_count_workers_per_minute_and_in_flight() -> None:
    now = [0.0]
    rate = Throttles(per_minute=5, concurrent=None, clock=lambda: now[0])
    rate.admit(3)
    rate.admit(2)
    try:
        rate.admit(1)
        raise AssertionError("a sixth invocation in a minute was admitted")
    except ApiError as refused:
        assert refused.status == 429
        assert refused.message == "Too many requests in the last minute (count: 5, allowed: 5)."
    now[0] = 60.0
    rate.admit(5)
    assert rate.limits() == {"invocationsPerMinute": 5}

    flight = Throttles(per_minute=None, concurrent=4)
    flight.admit(4)
    try:
        flight.admit(1)
        raise AssertionError("a fifth concurrent invocation was admitted")
    except ApiError as refused:
        assert refused.message == (
            "Too many concurrent requests in flight (count: 4, allowed: 4)."
        )
    flight.done(2)
    flight.admit(2)
    assert Throttles(None, None).limits() == {}


def test_memory_deaths_are_recognised_by_their_last_words() -> None:
    assert died_of_memory(["2026-01-01T00:00:00.000000Z stderr: MemoryError"])
    assert died_of_memory(["... stderr: memory allocation of 1048576 bytes failed"])
    assert not died_of_memory(["... stderr: ZeroDivisionError: division by zero"])


def test_oom_kill_counters_of_both_cgroup_versions() -> None:
    v1 = b"oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"
    v2 = b"low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\noom_group_kill 0\n"
    assert oom_kills(v1) == 3
    assert oom_kills(v2) == 2


def test_a_cgroup_holds_the_whole_pack_an_rlimit_each_process() -> None:
    assert container_memory(128, 1, True, 4) == MemoryLimit(cgroup_bytes=128 * MIB)
    assert container_memory(128, 8, True, 4) == MemoryLimit(cgroup_bytes=8 * 128 * MIB)
    per_process = MemoryLimit(data_limit_kb=(128 + 4 * 64) * 1024)
    assert container_memory(128, 8, False, 4) == per_process
    assert container_memory(128, 1, False, 4) == per_process


def _envelope(worker: int, error: str | None) -> dict:
    return {"worker_id": worker, "start_ms": 1, "end_ms": 2, "result": None, "error": error}


def test_oom_killed_pack_workers_are_blamed_only_when_the_count_says_which() -> None:
    killed = {**_envelope(1, "worker 1 died (signal 9, SIGKILL)"), "signal": 9}
    raised = _envelope(2, "MemoryError")
    fine = {**_envelope(0, None), "result": {"x": 1}}
    blamed = blame_memory([fine, killed, raised], 1)
    assert blamed == [fine, {**killed, "error": MEMORY_EXHAUSTED, "status": DEVELOPER_STATUS},
                      raised]
    assert blame_memory([fine, killed], 0) == [fine, killed]
    # Two died of SIGKILL, one OOM kill: which one cannot be told, so neither is blamed.
    other = {**_envelope(3, "worker 3 died (signal 9, SIGKILL)"), "signal": 9}
    assert blame_memory([killed, other], 1) == [killed, other]
    terminated = {**_envelope(4, "worker 4 died (signal 15, SIGTERM)"), "signal": 15}
    assert blame_memory([terminated], 1) == [terminated]
    assert blame_memory([killed, other], 2)[1]["error"] == MEMORY_EXHAUSTED
    assert blame_memory(["not an envelope", 3], 1) == ["not an envelope", 3]


DEVELOPER_STATUS = "action developer error"


def test_pack_workers_at_a_limit_read_as_a_map_activation_at_it_would() -> None:
    hung = {**_envelope(0, "worker 0 killed: still running at the deadline"), "timed_out": True,
            "status": DEVELOPER_STATUS}
    short = _envelope(1, "MemoryError")
    raised = _envelope(2, "ValueError: no")
    fine = {**_envelope(3, None), "result": {"x": 1}}
    blamed = blame_limits([hung, short, raised, fine], 1500)
    assert blamed == [
        {**hung, "error": "The action exceeded its time limits of 1500 milliseconds."},
        {**short, "error": MEMORY_EXHAUSTED, "status": DEVELOPER_STATUS},
        raised,
        fine,
    ]
    # a pack's status is its worst worker's
    assert pack_code(blamed) == DEVELOPER_ERROR
    assert pack_code([raised, fine]) == APPLICATION_ERROR
    assert pack_code([fine]) == SUCCESS
