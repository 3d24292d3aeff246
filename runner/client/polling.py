"""Finds which activations ended, through the activation list, in as few requests as it can.

OpenWhisk lists finished activations newest *start* first, 200 a page, and has
no query for "ended since". Reading the whole window of possibly-new records
every round costs a page per 200 records already seen, so a round reads only
the first page (the newest starts: where activations that run about as long as
their predecessors end up) and pages deeper only when that page was new to its
last record, or when a deep scan is due. Deep scans catch activations that end
out of start order; they come every 2 s at the least (the period of the usual
per-activation polling) and more often while they keep finding such activations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from runner.client.openwhisk import OpenWhiskClient
from runner.rundir.recorder import Submission

PAGE = 200
# Activations start after they are submitted, but on the controller's clock. Until a
# record bounds the clock offset, this much slack covers a controller clock slightly
# behind ours (activations outside it are found by single GETs).
CLOCK_SLACK_MS = 1000
# Rounding of both clocks to whole milliseconds, taken off the measured bound.
CLOCK_ROUNDING_MS = 5
DEEP_SCAN_MIN_S = 0.25
DEEP_SCAN_MAX_S = 2.0
# Requests a waiting runner may send at once, beyond its steady rate.
BURST_REQUESTS = 5


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Found:
    submission: Submission
    record: dict
    detected_ms: int


class ActivationPoller:
    """One per executor: what it learns of the controller's clock holds for every stage."""

    def __init__(self, client: OpenWhiskClient, action: str):
        self.client = client
        self.action = action
        # Lower bound of (controller clock - our clock): an activation ended before we saw it.
        self.clock_offset_floor_ms: int | None = None
        self.deep_every_s = DEEP_SCAN_MIN_S
        self.last_deep = time.monotonic()
        # Requests sent, failed ones included: what the caller's request budget is charged.
        self.requests_sent = 0

    def poll(self, pending: dict[str, Submission], found: list[Found]) -> None:
        """Moves finished activations from `pending` to `found`.

        `found` is the caller's, so what earlier pages brought survives a failing request.
        """
        deep = time.monotonic() - self.last_deep >= self.deep_every_s
        since = self._since(pending)
        skip = 0
        found_deeper = False
        while pending:
            self.requests_sent += 1
            page = self.client.list_activations(
                name=self.action, since=since, limit=PAGE, skip=skip, docs=True
            )
            detected = now_ms()
            before = len(found)
            last_was_new = False
            for record in page:
                self._bound_clock_offset(record, detected)
                submission = pending.pop(record.get("activationId"), None)
                last_was_new = submission is not None
                if submission is not None:
                    found.append(Found(submission, record, detected))
            found_deeper |= skip > 0 and len(found) > before
            if len(page) < PAGE:
                deep = True  # the whole window was read
                break
            if not (deep or last_was_new):
                break
            skip += PAGE
        if deep:
            self._deep_scan_done(found_deeper)

    def get_singly(self, pending: dict[str, Submission], count: int, found: list[Found]) -> None:
        """Fallback for activations the list misses (e.g. a controller clock far behind ours)."""
        for activation_id in list(pending)[:count]:
            self.requests_sent += 1
            record = self.client.get_activation(activation_id)
            if record is not None:
                detected = now_ms()
                self._bound_clock_offset(record, detected)
                found.append(Found(pending.pop(activation_id), record, detected))

    def _since(self, pending: dict[str, Submission]) -> int:
        """The oldest pending submit moved onto the controller's clock.

        A fixed slack for clock skew instead would keep a second of finished
        activations in every window: pages of them at a thousand invocations/s.
        """
        oldest_submit = min(sub.submit_ms for sub in pending.values())
        if self.clock_offset_floor_ms is None:
            return oldest_submit - CLOCK_SLACK_MS
        return oldest_submit + self.clock_offset_floor_ms - CLOCK_ROUNDING_MS

    def _bound_clock_offset(self, record: dict, detected_ms: int) -> None:
        end = record.get("end")
        if isinstance(end, int) and end > 0:
            bound = end - detected_ms
            if self.clock_offset_floor_ms is None or bound > self.clock_offset_floor_ms:
                self.clock_offset_floor_ms = bound

    def _deep_scan_done(self, found_deeper: bool) -> None:
        """Deep scans come sooner while they find what the first page missed."""
        self.last_deep = time.monotonic()
        if found_deeper:
            self.deep_every_s = max(DEEP_SCAN_MIN_S, self.deep_every_s / 2)
        else:
            self.deep_every_s = min(DEEP_SCAN_MAX_S, self.deep_every_s * 2)


class RequestBudget:
    """A token bucket over the requests sent while waiting.

    A steady rate alone would make every stage wait a whole round for its last
    activations: a k-means map of ten short stages paid ~0.1 s each. The bucket
    lets a few quick rounds through when a stage ends soon after it starts, and
    still holds a long wait to the rate on average.
    """

    def __init__(self, burst: float = BURST_REQUESTS):
        self.burst = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def spend(self, requests: int, rate: float) -> None:
        self._refill(rate)
        self.tokens -= requests

    def delay_s(self, rate: float) -> float:
        """How long to wait before the next request keeps to `rate` per second."""
        self._refill(rate)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / rate

    def _refill(self, rate: float) -> None:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * rate)
        self.updated = now
