"""Invokers' worker slots, granted first come, first served.

Each invoker runs at most ``slots`` workers at once: a map activation takes one
slot, a burst pack one per worker. A burst's packs talk to each other, so they
must all run at the same time: the burst is placed whole, in one grant (gang
scheduling). Strict FIFO order keeps a large burst from being starved by a
stream of small map activations that would otherwise always fit first; what
waits here shows as the activation's ``waitTime``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

from runner.platform.packing import Pack

# Given every invoker's free slots: where the workers go, or None if they do not fit now.
Planner = Callable[[Sequence[int]], list[Pack] | None]


class _Request:
    def __init__(self, plan: Planner, future: asyncio.Future[list[Pack]]) -> None:
        self.plan = plan
        self.future = future


class Cluster:
    """Free slots per invoker and the queue of requests waiting for them."""

    def __init__(self, invokers: int, slots: int) -> None:
        self.slots = slots
        self.free = [slots] * invokers
        self._queue: deque[_Request] = deque()

    @property
    def invokers(self) -> int:
        return len(self.free)

    @property
    def queued(self) -> bool:
        """Whether requests wait: a new one will not be granted before them."""
        return bool(self._queue)

    async def place(self, plan: Planner) -> list[Pack]:
        """Wait until ``plan`` fits (and everyone ahead was served); take its slots."""
        if not self._queue:
            packs = self._take(plan)
            if packs is not None:
                return packs
        request = _Request(plan, asyncio.get_running_loop().create_future())
        self._queue.append(request)
        try:
            return await request.future
        except asyncio.CancelledError:
            if request.future.done() and not request.future.cancelled():
                self.release(request.future.result())  # granted just as we were cancelled
            else:
                self._queue.remove(request)
                self._grant()
            raise

    def release(self, packs: Sequence[Pack]) -> None:
        for pack in packs:
            self.free[pack.invoker] += pack.workers
        self._grant()

    def _take(self, plan: Planner) -> list[Pack] | None:
        packs = plan(self.free)
        if packs is not None:
            for pack in packs:
                self.free[pack.invoker] -= pack.workers
        return packs

    def _grant(self) -> None:
        while self._queue:
            packs = self._take(self._queue[0].plan)
            if packs is None:
                return
            self._queue.popleft().future.set_result(packs)
