"""The namespace's throttles, as OpenWhisk's controller applies them; off unless configured.

Both count workers: a map invocation is one, a burst of N workers is N, so a
burst cannot slip past a limit that the same work sent as a map would hit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from runner.platform.errors import ApiError

WINDOW_S = 60.0


class Throttles:
    """Invocations per minute (sliding window) and invocations in flight (queued or running)."""

    def __init__(
        self,
        per_minute: int | None,
        concurrent: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.concurrent = concurrent
        self.in_flight = 0
        self._clock = clock
        self._recent: deque[tuple[float, int]] = deque()
        self._recent_total = 0

    def admit(self, workers: int) -> None:
        """Count an invocation of ``workers``, or refuse it with OpenWhisk's 429."""
        now = self._clock()
        while self._recent and self._recent[0][0] <= now - WINDOW_S:
            self._recent_total -= self._recent.popleft()[1]
        if self.per_minute is not None and self._recent_total + workers > self.per_minute:
            raise ApiError(
                429,
                f"Too many requests in the last minute (count: {self._recent_total}, "
                f"allowed: {self.per_minute}).",
            )
        if self.concurrent is not None and self.in_flight + workers > self.concurrent:
            raise ApiError(
                429,
                f"Too many concurrent requests in flight (count: {self.in_flight}, "
                f"allowed: {self.concurrent}).",
            )
        self._recent.append((now, workers))
        self._recent_total += workers
        self.in_flight += workers

    def done(self, workers: int) -> None:
        """Workers of an admitted invocation ended (their activation record exists)."""
        self.in_flight -= workers

    def limits(self) -> dict[str, Any]:
        """The configured throttles, named as ``GET /namespaces/{ns}/limits`` reports them."""
        shown: dict[str, Any] = {}
        if self.per_minute is not None:
            shown["invocationsPerMinute"] = self.per_minute
        if self.concurrent is not None:
            shown["concurrentInvocations"] = self.concurrent
        return shown
