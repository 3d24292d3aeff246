"""Runs one stage of an experiment: invoke activations, wait for them, record them.

Map stages submit their activations concurrently over the client's pooled
connections while a single poller watches the activation list in bulk, so
results are detected while later invocations are still being sent.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from runner.client.openwhisk import BurstOptions, OpenWhiskClient, OpenWhiskError
from runner.client.polling import ActivationPoller, Found, RequestBudget, now_ms
from runner.config import WaitConfig
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


class WaitTimeout(RuntimeError):
    pass


class Executor:
    """Shared by every stage of a run; apps with several stages call it more than once."""

    def __init__(self, client: OpenWhiskClient, action: str, recorder: Recorder,
                 concurrency: int, timeout_s: float, mode: str, burst_options: BurstOptions,
                 blocking: bool = False, poll_rate: float = WaitConfig.poll_rate):
        self.client = client
        self.action = action
        self.recorder = recorder
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.mode = mode
        self.burst_options = burst_options
        self.blocking = blocking
        self.poll_rate = poll_rate
        self.outcomes: list[WorkerOutcome] = []  # every worker of every stage, for the summary
        self.poller = ActivationPoller(client, action)
        self.budget = RequestBudget()

    def run(self, payloads: list[dict[str, Any]], stage: str | None = None) -> list[WorkerOutcome]:
        """One stage in the experiment's mode."""
        if self.mode == "map":
            return self.map(payloads, stage or "map")
        return self.burst(payloads, stage or "burst")

    def map(self, payloads: list[dict[str, Any]], stage: str = "map") -> list[WorkerOutcome]:
        """One activation per payload; `worker_id` is added to each payload."""
        outcomes: list[WorkerOutcome] = []
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            futures = [
                pool.submit(self._invoke_one, stage, worker_id, payload)
                for worker_id, payload in enumerate(payloads)
            ]
            self._wait(futures, outcomes, stage, len(payloads))
        return self._sorted(outcomes)

    def _sorted(self, outcomes: list[WorkerOutcome]) -> list[WorkerOutcome]:
        self.outcomes += outcomes
        return sorted(outcomes, key=lambda o: o.worker_id)

    def _invoke_one(self, stage: str, worker_id: int, payload: dict[str, Any]) -> Submission:
        sub = Submission(stage, "map", [worker_id], None, now_ms())
        params = {**payload, "worker_id": worker_id}
        try:
            if self.blocking:
                sub.activation_id, sub.record = self.client.invoke_blocking(self.action, params)
            else:
                sub.activation_id = self.client.invoke(self.action, params)
        except OpenWhiskError as error:
            sub.error = str(error)
        sub.accepted_ms = now_ms()
        return sub

    def burst(self, payloads: list[dict[str, Any]], stage: str = "burst") -> list[WorkerOutcome]:
        """One group invocation; the platform answers one activation per pack."""
        options = self.burst_options
        submit_ms = now_ms()
        outcomes: list[WorkerOutcome] = []
        try:
            ids = self.client.invoke_burst(self.action, payloads, options)
        except OpenWhiskError as error:
            sub = Submission(stage, "pack", list(range(len(payloads))), None, submit_ms,
                             now_ms(), None, str(error))
            return self._sorted(self.recorder.failed(sub, "not invoked", sub.error or ""))
        accepted_ms = now_ms()
        size = options.granularity or len(payloads)
        subs = []
        for pack, activation_id in enumerate(ids):
            workers = list(range(pack * size, min((pack + 1) * size, len(payloads))))
            subs.append(Submission(stage, "pack", workers, pack, submit_ms, accepted_ms,
                                   activation_id))
        future: Future[list[Submission]] = Future()
        future.set_result(subs)
        self._wait([future], outcomes, stage, len(subs))
        return self._sorted(outcomes)

    def _wait(self, futures: list[Future], outcomes: list[WorkerOutcome], stage: str,
              expected: int) -> None:
        """Polls the activation list until every submitted activation is recorded."""
        progress = Progress(stage)
        pending: dict[str, Submission] = {}
        unsubmitted = list(futures)
        deadline = time.monotonic() + self.timeout_s
        interval = FAST_POLL_S
        last_news = time.monotonic()  # of the last round that found something, or a single GET
        poll_error = ""
        try:
            while unsubmitted or pending:
                round_start = time.monotonic()
                still = []
                for future in unsubmitted:
                    if not future.done():
                        still.append(future)
                        continue
                    result = future.result()
                    for sub in result if isinstance(result, list) else [result]:
                        if sub.activation_id is None:
                            outcomes += self.recorder.failed(sub, "not invoked", sub.error or "")
                        elif sub.record is not None:  # a blocking invocation brought it
                            outcomes += self._finished(sub, sub.record, sub.accepted_ms or now_ms())
                        else:
                            pending[sub.activation_id] = sub
                unsubmitted = still
                found: list[Found] = []
                sent_before = self.poller.requests_sent
                try:
                    if pending:
                        self.poller.poll(pending, found)
                    if pending and time.monotonic() - last_news > SINGLE_GET_EVERY_S:
                        self.poller.get_singly(pending, SINGLE_GETS_PER_ROUND, found)
                        last_news = time.monotonic()
                except OpenWhiskError as error:  # the controller may recover before the deadline
                    poll_error = f"; last poll failed: {error}"
                if found:
                    last_news = time.monotonic()
                for done in found:
                    outcomes += self._finished(done.submission, done.record, done.detected_ms)
                if progress.enabled:  # counting costs a pass over the outcomes: only for a screen
                    finished = expected - len(pending) - len(unsubmitted)
                    failed = sum(1 for o in outcomes if not o.ok)
                    progress.update(finished, expected, failed,
                                    final=not (unsubmitted or pending))
                if not (unsubmitted or pending):
                    break
                if time.monotonic() > deadline:
                    raise WaitTimeout(
                        f"{len(pending) + len(unsubmitted)} activations unfinished after "
                        f"{self.timeout_s:.0f} s (raise wait.timeout_s to wait longer)"
                        f"{poll_error}"
                    )
                interval = FAST_POLL_S if found else min(interval * 1.5, SLOW_POLL_S)
                rate = max(self.poll_rate, len(pending) / PENDING_PER_REQUEST)
                self.budget.spend(self.poller.requests_sent - sent_before, rate)
                cadence = round_start + interval - time.monotonic()
                time.sleep(max(0.0, cadence, self.budget.delay_s(rate)))
        finally:
            # Stopped early (Ctrl-C, deadline): invocations not yet sent never will be; those in
            # flight are let finish so their activations are on record as unfinished.
            for future in unsubmitted:
                future.cancel()
            for future in unsubmitted:
                if future.cancelled():
                    continue
                result = future.result()
                for sub in result if isinstance(result, list) else [result]:
                    if sub.activation_id is not None:
                        pending[sub.activation_id] = sub
            for sub in pending.values():
                outcomes += self.recorder.failed(
                    sub, "unfinished", "no result when the runner stopped waiting"
                )

    def _finished(self, sub: Submission, record: dict, detected_ms: int) -> list[WorkerOutcome]:
        """Records the activation; a failed one also gets its logs saved for the post-mortem."""
        outcomes = self.recorder.finished(sub, record, detected_ms)
        if not (record.get("response") or {}).get("success") or not all(o.ok for o in outcomes):
            logs = record.get("logs")
            if logs is None:
                try:
                    logs = self.client.activation_logs(record["activationId"])
                except OpenWhiskError as error:
                    logs = [f"(logs unavailable: {error})"]
            self.recorder.save_logs(record["activationId"], logs)
        return outcomes
