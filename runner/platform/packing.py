"""Where the workers of a burst go: packs (one container each) on invokers.

Pure functions of the invokers' free worker slots, as the burst fork places them:

- an explicit ``granularity`` G cuts the burst into packs of G consecutive
  workers (the last may be smaller) and fills invokers in turn, the one with the
  most free slots first;
- without one (heterogeneous packing) each invoker, largest free capacity
  first, takes one pack as big as its free slots allow;
- ``join`` merges the packs that landed on the same invoker into one pack.

Worker ranges stay consecutive per invoker, so a merged pack is one range.
A burst is placed whole or not at all: its workers must all run at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pack:
    """Workers ``first``..``last`` (inclusive) run in one container on ``invoker``."""

    invoker: int
    first: int
    last: int

    @property
    def workers(self) -> int:
        return self.last - self.first + 1


def plan_map(free: Sequence[int], home: int, warm: Callable[[int], bool]) -> list[Pack] | None:
    """One slot for a map activation: on an invoker with a warm container for it if any,
    else on its home invoker (so its containers gather there), else on the least busy one.
    """
    open_invokers = [i for i, slots in enumerate(free) if slots > 0]
    if not open_invokers:
        return None
    chosen = next((i for i in open_invokers if warm(i)), None)
    if chosen is None:
        chosen = home if free[home] > 0 else min(open_invokers, key=lambda i: (-free[i], i))
    return [Pack(chosen, 0, 0)]


def _by_free_slots(free: Sequence[int]) -> list[int]:
    """Invoker indexes, most free slots first (lower index first among equals)."""
    return sorted(range(len(free)), key=lambda i: (-free[i], i))


def plan_burst(
    free: Sequence[int], workers: int, granularity: int | None, join: bool
) -> list[Pack] | None:
    """The packs of a burst of ``workers``, or None if the free slots cannot hold it now."""
    if granularity is None:
        return _heterogeneous(free, workers)
    packs: list[Pack] = []
    order = iter(_by_free_slots(free))
    invoker = next(order, None)
    room = free[invoker] if invoker is not None else 0
    for first in range(0, workers, granularity):
        size = min(granularity, workers - first)
        while invoker is not None and room < size:
            invoker = next(order, None)
            room = free[invoker] if invoker is not None else 0
        if invoker is None:
            return None
        packs.append(Pack(invoker, first, first + size - 1))
        room -= size
    return _joined(packs) if join else packs


def _heterogeneous(free: Sequence[int], workers: int) -> list[Pack] | None:
    packs: list[Pack] = []
    first = 0
    for invoker in _by_free_slots(free):
        if first == workers or free[invoker] == 0:
            break
        size = min(free[invoker], workers - first)
        packs.append(Pack(invoker, first, first + size - 1))
        first += size
    return packs if first == workers else None


def _joined(packs: list[Pack]) -> list[Pack]:
    """Consecutive packs on the same invoker become one."""
    merged: list[Pack] = []
    for pack in packs:
        if merged and merged[-1].invoker == pack.invoker:
            merged[-1] = Pack(pack.invoker, merged[-1].first, pack.last)
        else:
            merged.append(pack)
    return merged


def fit(free: Sequence[int], packs: Sequence[Pack]) -> list[Pack] | None:
    """Invokers for packs whose workers are already decided, or None if they do not fit now.

    A burst that had to wait keeps the packs it was given when accepted (their
    activation ids were answered then); each pack stays on its planned invoker if
    that has room, else goes where the most slots are free, biggest packs first.
    """
    room = list(free)
    chosen: dict[int, int] = {}
    for index in sorted(range(len(packs)), key=lambda i: -packs[i].workers):
        pack = packs[index]
        if room[pack.invoker] >= pack.workers:
            invoker = pack.invoker
        else:
            invoker = max(range(len(room)), key=lambda i: (room[i], -i))
            if room[invoker] < pack.workers:
                return None
        room[invoker] -= pack.workers
        chosen[index] = invoker
    return [Pack(chosen[i], pack.first, pack.last) for i, pack in enumerate(packs)]


def burst_info(packs: Sequence[Pack]) -> dict[str, list[int]]:
    """Group id ("0", "1", ...) to its inclusive worker range, as every pack receives it."""
    return {str(group): [pack.first, pack.last] for group, pack in enumerate(packs)}
