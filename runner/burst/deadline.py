"""Absolute deadlines: every blocking wait in a burst is bounded by the activation's deadline."""

from __future__ import annotations

import time

from .errors import DeadlineExpired


class Deadline:
    """A point in wall-clock time (epoch seconds) after which waits give up.

    Wall-clock time is used because the platform states deadlines in epoch
    milliseconds and all workers of a burst must agree on the same instant.
    """

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at = at

    def check(self) -> float:
        """Return the seconds left, or raise ``DeadlineExpired`` when none are."""
        left = self.at - time.time()
        if left <= 0:
            raise DeadlineExpired()
        return left
