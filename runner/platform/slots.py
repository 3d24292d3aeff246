"""Worker slots: a first-come-first-served counting semaphore that grants several at once.

A burst's packs talk to each other, so they must all run at the same time: the
burst takes the slots of all its workers in one grant (gang scheduling). Strict
FIFO order keeps a large burst from being starved by a stream of small map
activations that would otherwise always fit first.
"""

from __future__ import annotations

import asyncio
from collections import deque


class WorkerSlots:
    def __init__(self, total: int) -> None:
        self.total = total
        self._free = total
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()

    async def acquire(self, count: int) -> None:
        """Wait until ``count`` slots (at most ``total``) are free and everyone ahead is served."""
        if count > self.total:
            raise ValueError(f"cannot take {count} of {self.total} slots")
        if not self._waiters and self._free >= count:
            self._free -= count
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((count, future))
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(count)  # granted just as we were cancelled
            else:
                self._waiters.remove((count, future))
                self._grant()
            raise

    def release(self, count: int) -> None:
        self._free += count
        self._grant()

    def _grant(self) -> None:
        while self._waiters and self._waiters[0][0] <= self._free:
            count, future = self._waiters.popleft()
            self._free -= count
            future.set_result(None)
