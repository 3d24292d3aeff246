"""Pure parts of the platform: pack planning, the activation index, answer statuses."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from runner.platform.bursts import burst_info, plan_packs
from runner.platform.records import interpret
from runner.platform.store import ActivationStore


@given(st.integers(1, 300), st.one_of(st.none(), st.integers(1, 400)))
def test_packs_cover_every_worker_once_in_order(workers: int, granularity: int | None) -> None:
    packs = plan_packs(workers, granularity)
    covered = [w for first, last in packs for w in range(first, last + 1)]
    assert covered == list(range(workers))
    size = workers if granularity is None else granularity
    assert all(last - first + 1 == min(size, workers) for first, last in packs[:-1])
    assert list(burst_info(packs)) == [str(g) for g in range(len(packs))]


def test_plan_packs_example() -> None:
    assert plan_packs(10, 3) == [(0, 2), (3, 5), (6, 8), (9, 9)]
    assert burst_info(plan_packs(10, 3))["3"] == [9, 9]


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
    store = ActivationStore()
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
    store = ActivationStore()
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
