"""Waiting for one stage's activations: polling rounds, pacing, the deadline, what is left over.

A map stage and a burst share everything here; they differ only in where their
submissions come from (invocations still being sent, or the packs one burst
invocation named), which is all `Executor` keeps to itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from runner.client.openwhisk import OpenWhiskError, Unreachable
from runner.client.polling import ActivationPoller, Found, RequestBudget, now_ms
from runner.pipeline.progress import Progress
from runner.rundir.recorder import Recorder, Submission, WorkerOutcome

# Poll cadence: quick while results arrive, backing off to a cap that still keeps the
# detection lag of a quiet spell short (one list request per cap is cheap).
FAST_POLL_S = 0.05
SLOW_POLL_S = 0.25
# Above the configured poll rate, one list request per second for every 100 pending
# activations: still 50 times fewer than polling each of them every 2 s.
PENDING_PER_REQUEST = 100
# When the list has found nothing for this long, a few pending activations are also
# fetched one by one, in case the list misses them (a controller clock stepped back).
SINGLE_GET_EVERY_S = 5.0
SINGLE_GETS_PER_ROUND = 10

Finish = Callable[[Submission, dict, int], list[WorkerOutcome]]


class WaitTimeout(RuntimeError):
    pass


class PlatformLost(RuntimeError):
    """The controller stopped answering at all while activations were pending."""


class Waiting:
    """The activations of one stage that are submitted but not yet recorded."""

    def __init__(self, stage: str, expected: int, recorder: Recorder, poller: ActivationPoller,
                 budget: RequestBudget, finish: Finish, timeout_s: float, poll_rate: float):
        self.pending: dict[str, Submission] = {}
        self.outcomes: list[WorkerOutcome] = []
        self._expected = expected
        self._recorder = recorder
        self._poller = poller
        self._budget = budget
        self._finish = finish
        self._timeout_s = timeout_s
        self._poll_rate = poll_rate
        self._progress = Progress(stage)
        self._deadline = time.monotonic() + timeout_s
        self._interval = FAST_POLL_S
        self._last_news = time.monotonic()  # of the last round that found something, or a GET
        self._poll_error = ""
        self._sent_before = 0

    def admit(self, sub: Submission) -> None:
        """A submission whose invocation returned: failed, already answered, or to watch."""
        if sub.activation_id is None:
            self.outcomes += self._recorder.failed(sub, "not invoked", sub.error or "")
        elif sub.record is not None:  # a blocking invocation brought it
            self.outcomes += self._finish(sub, sub.record, sub.accepted_ms or now_ms())
        else:
            self.pending[sub.activation_id] = sub

    def poll(self) -> bool:
        """One round over the activation list; records what ended. True when something did."""
        found: list[Found] = []
        self._sent_before = self._poller.requests_sent
        try:
            if self.pending:
                self._poller.poll(self.pending, found)
            if self.pending and time.monotonic() - self._last_news > SINGLE_GET_EVERY_S:
                self._poller.get_singly(self.pending, SINGLE_GETS_PER_ROUND, found)
                self._last_news = time.monotonic()
        except Unreachable as error:  # nothing listens any more: waiting to the deadline is futile
            raise PlatformLost(
                f"stopped waiting for {len(self.pending)} activations: {error}; the rows so far "
                "are kept, and `python -m runner.resume RUN_DIR` collects the rest once the "
                "platform is back") from error
        except OpenWhiskError as error:  # the controller may recover before the deadline
            self._poll_error = f"; last poll failed: {error}"
        if found:
            self._last_news = time.monotonic()
        for done in found:
            self.outcomes += self._finish(done.submission, done.record, done.detected_ms)
        return bool(found)

    def report(self, unsent: int) -> None:
        if self._progress.enabled:  # counting costs a pass over the outcomes: only for a screen
            finished = self._expected - len(self.pending) - unsent
            failed = sum(1 for o in self.outcomes if not o.ok)
            self._progress.update(finished, self._expected, failed,
                                  final=not (unsent or self.pending))

    def pace(self, round_start: float, found: bool, unsent: int) -> None:
        """Gives up at the deadline; otherwise sleeps until the next round is due."""
        if time.monotonic() > self._deadline:
            raise WaitTimeout(
                f"{len(self.pending) + unsent} activations unfinished after "
                f"{self._timeout_s:.0f} s (raise wait.timeout_s to wait longer)"
                f"{self._poll_error}"
            )
        self._interval = FAST_POLL_S if found else min(self._interval * 1.5, SLOW_POLL_S)
        rate = max(self._poll_rate, len(self.pending) / PENDING_PER_REQUEST)
        self._budget.spend(self._poller.requests_sent - self._sent_before, rate)
        cadence = round_start + self._interval - time.monotonic()
        time.sleep(max(0.0, cadence, self._budget.delay_s(rate)))

    def abandon(self) -> None:
        """Stopped early (Ctrl-C, deadline): what is still pending is recorded as unfinished."""
        for sub in self.pending.values():
            self.outcomes += self._recorder.failed(
                sub, "unfinished", "no result when the runner stopped waiting"
            )
        self.pending.clear()
