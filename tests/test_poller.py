"""The requests the poller sends to find ended activations, and what it finds.

The poller is runner/client/polling.py; the summary's `requests` column counts
its requests. A scripted controller answers the activation list as OpenWhisk
does (finished records, newest start first, pages of `limit` from `skip`, none
started before `since`) and notes every request; the poller's clock is a fake
one moved by the test, so deep scans come when the test says, with no sleeping.
tests/test_polling.py runs the same poller against the embedded platform.
"""

from __future__ import annotations

from typing import Any

import pytest

from runner.client import polling
from runner.client.polling import ActivationPoller, Found, RequestBudget
from runner.rundir.recorder import Submission

NOW_MS = 1_800_000_000_000


class Clock:
    """Stands in for the `time` module inside runner.client.polling."""

    def __init__(self) -> None:
        # a monotonic clock's origin is arbitrary: this one starts near zero
        self.seconds = 0.0625
        self.wall_ms = NOW_MS

    def monotonic(self) -> float:
        return self.seconds

    def time(self) -> float:
        return self.wall_ms / 1000


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(polling, "time", fake)
    return fake


class Controller:
    """Finished records by start, newest first; every request is noted."""

    def __init__(self, records: list[dict[str, Any]]):
        self.records = sorted(records, key=lambda r: r["start"], reverse=True)
        self.requests: list[tuple] = []
        self.fail_on_skip: int | None = None

    def list_activations(self, name: str | None = None, since: int | None = None,
                         upto: int | None = None, limit: int = 200, skip: int = 0,
                         docs: bool = True) -> list[dict]:
        self.requests.append(("list", name, since, limit, skip, docs))
        if skip == self.fail_on_skip:
            raise ConnectionError("dropped")
        window = [r for r in self.records if since is None or r["start"] >= since]
        return window[skip: skip + limit]

    def get_activation(self, activation_id: str) -> dict | None:
        self.requests.append(("get", activation_id))
        return next((r for r in self.records if r["activationId"] == activation_id), None)


def _record(i: int, start: int, end: Any = None) -> dict[str, Any]:
    return {"activationId": f"a{i}", "start": start, "end": start + 10 if end is None else end}


def _pending(ids: list[int], submit_ms: int = NOW_MS - 60_000) -> dict[str, Submission]:
    return {f"a{i}": Submission("main", "map", [i], None, submit_ms + i, activation_id=f"a{i}")
            for i in ids}


def _ids(found: list[Found]) -> list[str]:
    return [f.submission.activation_id for f in found]


def test_a_window_of_many_pages_is_read_to_its_end_in_one_round(clock: Clock) -> None:
    starts = NOW_MS - 50_000
    controller = Controller([_record(i, starts + i) for i in range(450)])
    poller = ActivationPoller(controller, "sleep")
    pending, found = _pending(list(range(450))), []

    poller.poll(pending, found)

    # until a record bounds the clocks' offset, a second of slack
    since = NOW_MS - 60_000 - 1000
    assert controller.requests == [
        ("list", "sleep", since, 200, 0, True),
        ("list", "sleep", since, 200, 200, True),
        ("list", "sleep", since, 200, 400, True),
    ]
    assert sorted(_ids(found)) == sorted(f"a{i}" for i in range(450)) and not pending
    assert poller.requests_sent == 3
    assert {f.detected_ms for f in found} == {NOW_MS}


def test_the_controllers_clock_is_learnt_from_the_records_it_sends(clock: Clock) -> None:
    # the controller's clock is 20 s behind: a record ended 20 s "before" we saw it
    controller = Controller([_record(1, NOW_MS - 25_000, end=NOW_MS - 20_000),
                             _record(2, NOW_MS - 26_000, end=NOW_MS - 21_000)])
    poller = ActivationPoller(controller, "sleep")
    found: list[Found] = []
    poller.poll(_pending([1, 2]), found)
    assert poller.clock_offset_floor_ms == -20_000  # the larger of the two bounds

    poller.poll(_pending([5], submit_ms=NOW_MS), found)
    # the oldest pending submit on the controller's clock, less the rounding of both clocks
    assert controller.requests[-1][2] == NOW_MS + 5 - 20_000 - 5


def test_the_window_starts_5_ms_before_the_oldest_submit_on_the_controllers_clock(
        clock: Clock) -> None:
    controller = Controller([_record(1, NOW_MS - 100, end=NOW_MS)])  # offset bound: 0
    poller = ActivationPoller(controller, "sleep")
    poller.poll(_pending([1]), [])
    submit = NOW_MS - 50_000
    controller.records += [_record(2, submit - 5), _record(3, submit - 6)]
    pending, found = _pending([2, 3], submit_ms=submit - 2), []
    poller.poll(pending, found)
    assert controller.requests[-1][2] == submit - 5
    assert _ids(found) == ["a2"] and list(pending) == ["a3"]


def test_records_without_a_usable_end_teach_nothing_about_the_clock(clock: Clock) -> None:
    controller = Controller([_record(1, NOW_MS - 5000, end=0),
                             _record(3, NOW_MS - 3000, end="late")])
    poller = ActivationPoller(controller, "sleep")
    found: list[Found] = []
    poller.poll(_pending([1, 3]), found)
    assert len(found) == 2 and poller.clock_offset_floor_ms is None
    # only a larger bound moves the one known
    poller.get_singly(_pending([9]), 1, [])
    controller.records.append(_record(9, NOW_MS - 3000, end=NOW_MS - 7000))
    poller.get_singly(_pending([9]), 1, [])
    assert poller.clock_offset_floor_ms == -7000
    controller.records.append(_record(8, NOW_MS - 3000, end=NOW_MS - 9000))
    poller.get_singly(_pending([8]), 1, [])
    assert poller.clock_offset_floor_ms == -7000
    controller.records.append(_record(7, NOW_MS - 3000, end=NOW_MS - 5000))
    poller.get_singly(_pending([7]), 1, [])
    assert poller.clock_offset_floor_ms == -5000


def _overtaken(clock: Clock) -> tuple[Controller, ActivationPoller, dict[str, Submission]]:
    """250 finished records: the 10 newest starts just ended, and 5 of the oldest ended late."""
    starts = NOW_MS - 40_000
    controller = Controller([_record(i, starts + i) for i in range(250)])
    poller = ActivationPoller(controller, "sleep")
    return controller, poller, _pending([*range(240, 250), *range(5)])


def test_a_round_reads_one_page_unless_its_last_record_was_new(clock: Clock) -> None:
    controller, poller, pending = _overtaken(clock)
    found: list[Found] = []
    poller.poll(pending, found)
    assert [r[4] for r in controller.requests] == [0]  # no deep scan is due yet
    assert sorted(_ids(found)) == sorted(f"a{i}" for i in range(240, 250))
    assert sorted(pending) == [f"a{i}" for i in range(5)]


def test_deep_scans_find_what_ended_out_of_start_order_and_then_come_sooner(clock: Clock) -> None:
    controller, poller, pending = _overtaken(clock)
    found: list[Found] = []
    poller.poll(pending, found)
    clock.seconds += 0.125
    poller.poll(pending, found)
    assert [r[4] for r in controller.requests] == [0, 0]  # not yet: every 0.25 s at first
    clock.seconds += 0.125
    poller.poll(pending, found)
    assert [r[4] for r in controller.requests] == [0, 0, 0, 200]
    assert not pending and len(found) == 15
    assert poller.deep_every_s == 0.25  # halved, and never below the least


def test_deep_scans_that_find_nothing_come_half_as_often_up_to_the_most(clock: Clock) -> None:
    controller = Controller([_record(i, NOW_MS - 40_000 + i) for i in range(250)])
    poller = ActivationPoller(controller, "sleep")
    pending = _pending([999])  # never ends: every deep scan reads the whole window for nothing
    periods = []
    for _ in range(5):
        clock.seconds += poller.deep_every_s + 0.0625  # a round comes when it comes
        poller.poll(pending, [])
        periods.append(poller.deep_every_s)
    assert periods == [0.5, 1.0, 2.0, 2.0, 2.0]
    assert [r[4] for r in controller.requests] == [0, 200] * 5
    poller.poll(pending, [])  # no scan due: the first page only
    assert [r[4] for r in controller.requests][-1:] == [0]
    # a deep scan that finds something deeper halves the period
    controller.records.append(_record(999, NOW_MS - 40_000 - 5))  # ended, the oldest start
    clock.seconds += 2.0
    found: list[Found] = []
    poller.poll(pending, found)
    assert _ids(found) == ["a999"] and poller.deep_every_s == 1.0
    controller.records.append(_record(998, NOW_MS - 40_000 - 6))
    clock.seconds += 1.0
    poller.poll(_pending([998]), found)
    assert _ids(found) == ["a999", "a998"] and poller.deep_every_s == 0.5


def test_finds_the_caller_already_holds_are_not_finds_of_a_deep_scan(clock: Clock) -> None:
    controller = Controller([_record(i, NOW_MS - 40_000 + i) for i in range(250)])
    poller = ActivationPoller(controller, "sleep")
    found = [Found(sub, {}, NOW_MS) for sub in _pending(list(range(1000, 1300))).values()]
    clock.seconds += 0.25
    poller.poll(_pending([999]), found)  # a deep scan finding nothing
    assert len(found) == 300 and poller.deep_every_s == 0.5
    clock.seconds += 0.5
    poller.poll(_pending([999, 249]), found)  # the first page finds one: nothing deeper
    assert len(found) == 301 and poller.deep_every_s == 1.0


def test_what_earlier_pages_found_is_kept_when_a_request_fails(clock: Clock) -> None:
    controller = Controller([_record(i, NOW_MS - 40_000 + i) for i in range(300)])
    controller.fail_on_skip = 200
    poller = ActivationPoller(controller, "sleep")
    pending, found = _pending(list(range(300))), []
    with pytest.raises(ConnectionError):
        poller.poll(pending, found)
    assert len(found) == 200 and len(pending) == 100
    assert poller.requests_sent == 2, "a failed request is charged too"


def test_single_gets_fetch_the_oldest_pending_and_count_each_request(clock: Clock) -> None:
    controller = Controller([_record(1, NOW_MS - 3000, end=NOW_MS - 2000),
                             _record(3, NOW_MS - 3000)])
    poller = ActivationPoller(controller, "sleep")
    pending, found = _pending([1, 2, 3, 4]), []
    poller.get_singly(pending, 3, found)
    assert controller.requests == [("get", "a1"), ("get", "a2"), ("get", "a3")]
    assert _ids(found) == ["a1", "a3"] and sorted(pending) == ["a2", "a4"]
    assert [f.detected_ms for f in found] == [NOW_MS, NOW_MS]
    assert poller.requests_sent == 3
    assert poller.clock_offset_floor_ms == -2000  # a1's bound, larger than a3's (-2990)
    poller.get_singly(pending, 0, found)
    assert poller.requests_sent == 3


def test_the_request_budget_lets_a_burst_through_then_holds_the_rate(clock: Clock) -> None:
    budget = RequestBudget()
    assert budget.delay_s(rate=4) == 0.0
    budget.spend(5, rate=4)  # a burst of five requests
    assert budget.delay_s(rate=4) == 0.25  # one request's worth at 4/s
    clock.seconds += 0.125
    assert budget.delay_s(rate=4) == 0.125
    clock.seconds += 0.125
    assert budget.delay_s(rate=4) == 0.0  # exactly one token again
    clock.seconds += 0.125
    assert budget.delay_s(rate=4) == 0.0  # one and a half
    clock.seconds += 60
    budget.spend(5, rate=4)  # refilled to the burst, not beyond
    assert budget.delay_s(rate=4) == 0.25
    budget.spend(3, rate=4)
    assert budget.delay_s(rate=4) == 1.0
    assert RequestBudget(burst=2).tokens == 2
