"""Per-(source, channel) inboxes filled by a receiver thread and drained by the worker."""

from __future__ import annotations

import threading
import time
from collections import deque

from .buffers import Received
from .deadline import Deadline
from .errors import BurstError

Key = tuple[int, int]


class Mailbox:
    """FIFO queues keyed by (source worker, channel), with bounded waits.

    One condition variable serves all queues: waits are rare to contend (one
    worker thread usually consumes), and it keeps wake-ups simple.
    """

    def __init__(self) -> None:
        self._queues: dict[Key, deque[Received]] = {}
        self._cond = threading.Condition()
        self._failure: BaseException | None = None

    def put(self, key: Key, payload: Received) -> None:
        with self._cond:
            self._queues.setdefault(key, deque()).append(payload)
            self._cond.notify_all()

    def fail(self, exc: BaseException) -> None:
        """Make every current and future wait raise: the receiving side broke."""
        with self._cond:
            self._failure = exc
            self._cond.notify_all()

    def get(self, key: Key, deadline: Deadline, within: float) -> Received | None:
        """Pop the oldest message for ``key``, waiting at most ``within`` seconds for one.

        Returns None when none came in that time, so the caller can check on the
        peer between waits; raises ``DeadlineExpired`` once the deadline passes.
        """
        until = time.monotonic() + within
        with self._cond:
            while True:
                queue = self._queues.get(key)
                if queue:
                    payload = queue.popleft()
                    if not queue:
                        del self._queues[key]
                    return payload
                if self._failure is not None:
                    raise BurstError(f"receiver stopped: {self._failure}") from self._failure
                left = min(deadline.check(), until - time.monotonic())
                if left <= 0:
                    return None
                self._cond.wait(left)
