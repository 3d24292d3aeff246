"""Where burst workers go: packs on invokers, as the burst fork places them (pure functions)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from runner.platform.packing import Pack, burst_info, fit, plan_burst, plan_map

free_slots = st.lists(st.integers(0, 40), min_size=1, max_size=5)


@given(free_slots, st.integers(1, 120), st.one_of(st.none(), st.integers(1, 50)), st.booleans())
def test_a_plan_covers_every_worker_once_within_free_slots(
    free: list[int], workers: int, granularity: int | None, join: bool
) -> None:
    packs = plan_burst(free, workers, granularity, join)
    if packs is None:
        return
    assert [w for p in packs for w in range(p.first, p.last + 1)] == list(range(workers))
    for invoker, slots in enumerate(free):
        assert sum(p.workers for p in packs if p.invoker == invoker) <= slots
    if granularity is not None and not join:
        assert all(p.workers == min(granularity, workers) for p in packs[:-1])
    if join or granularity is None:
        # One pack per invoker used.
        assert len({p.invoker for p in packs}) == len(packs)


@given(free_slots, st.integers(1, 120))
def test_heterogeneous_packing_fails_only_when_the_slots_cannot_hold_the_burst(
    free: list[int], workers: int
) -> None:
    assert (plan_burst(free, workers, None, False) is None) == (sum(free) < workers)


def test_examples() -> None:
    # One invoker with room: one pack (heterogeneous), or packs of the granularity.
    assert plan_burst([16], 10, None, False) == [Pack(0, 0, 9)]
    assert plan_burst([16], 10, 3, False) == [
        Pack(0, 0, 2), Pack(0, 3, 5), Pack(0, 6, 8), Pack(0, 9, 9)
    ]
    assert burst_info(plan_burst([16], 10, 3, False) or []) == {
        "0": [0, 2], "1": [3, 5], "2": [6, 8], "3": [9, 9]
    }
    # Heterogeneous: each invoker's free slots, largest first.
    assert plan_burst([3, 6, 2], 10, None, False) == [Pack(1, 0, 5), Pack(0, 6, 8), Pack(2, 9, 9)]
    assert plan_burst([3, 6], 10, None, False) is None
    # Granularity fills the invoker with the most free slots first, then the next.
    assert plan_burst([4, 6], 10, 2, False) == [
        Pack(1, 0, 1), Pack(1, 2, 3), Pack(1, 4, 5), Pack(0, 6, 7), Pack(0, 8, 9)
    ]
    # join merges the packs that landed on one invoker.
    assert plan_burst([4, 6], 10, 2, True) == [Pack(1, 0, 5), Pack(0, 6, 9)]
    assert plan_burst([4, 5], 10, 3, False) is None


def test_fit_keeps_packs_and_moves_them_where_slots_are_free() -> None:
    planned = [Pack(0, 0, 3), Pack(1, 4, 5)]
    assert fit([4, 2], planned) == planned
    assert fit([0, 6], planned) == [Pack(1, 0, 3), Pack(1, 4, 5)]
    assert fit([3, 3], planned) is None


def test_map_slots_prefer_warm_then_home_then_the_least_busy() -> None:
    assert plan_map([1, 1, 1], home=0, warm=lambda i: i == 2) == [Pack(2, 0, 0)]
    assert plan_map([1, 1, 1], home=1, warm=lambda i: False) == [Pack(1, 0, 0)]
    assert plan_map([2, 0, 5], home=1, warm=lambda i: False) == [Pack(2, 0, 0)]
    assert plan_map([0, 0], home=0, warm=lambda i: True) is None
