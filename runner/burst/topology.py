"""Which worker lives in which pack (group): the shape every collective is planned on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class Topology:
    """An ordered partition of worker ids ``0..size-1`` into contiguous groups.

    Groups are contiguous id ranges (the platform packs workers that way), which
    lets order-sensitive reductions combine whole groups in id order.
    """

    def __init__(self, ranges: Mapping[str, Sequence[int]]) -> None:
        parsed = {str(g): (int(r[0]), int(r[1])) for g, r in ranges.items()}
        self.groups: list[str] = sorted(parsed, key=lambda g: parsed[g][0])
        self.ranges: dict[str, tuple[int, int]] = {g: parsed[g] for g in self.groups}
        expected = 0
        for group in self.groups:
            first, last = self.ranges[group]
            if first != expected or last < first:
                raise ValueError(
                    f"burst_info must split 0..N-1 into contiguous ranges; group {group!r} "
                    f"has [{first}, {last}] where worker {expected} should start one"
                )
            expected = last + 1
        if expected == 0:
            raise ValueError("burst_info has no groups")
        self.size = expected
        self._owner = [g for g in self.groups for _ in self.members(g)]

    def members(self, group: str) -> range:
        first, last = self.ranges[group]
        return range(first, last + 1)

    def group_of(self, worker: int) -> str:
        return self._owner[worker]

    def leader(self, group: str) -> int:
        return self.ranges[group][0]
