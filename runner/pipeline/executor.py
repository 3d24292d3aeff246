"""Runs one stage of an experiment: invoke activations, wait for them, record them.

Map stages submit their activations concurrently over the client's pooled
connections while a single poller watches the activation list in bulk, so
results are detected while later invocations are still being sent.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import compress
from typing import Any

from runner.client.openwhisk import BurstOptions, OpenWhiskClient, OpenWhiskError
from runner.client.polling import ActivationPoller, RequestBudget, now_ms
from runner.config import WaitConfig
from runner.pipeline.waiting import Waiting
from runner.rundir.recorder import Recorder, Submission, WorkerOutcome


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
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            invocations = [
                pool.submit(self._invoke_one, stage, worker_id, payload)
                for worker_id, payload in enumerate(payloads)
            ]
            waiting = self._wait_invocations(invocations, stage)
        except BaseException:
            # Ctrl-C can land inside a future's `with condition:` before the block is set up,
            # leaving that lock held (CPython runs the handler between the two): joining an
            # invoker waiting for it would then hang the run forever. Nothing more is sent,
            # nothing is waited for; the process ends without joining its threads.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return self._sorted(waiting.outcomes)

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
        return self._sorted(self._wait_packs(subs, stage).outcomes)

    def _waiting(self, stage: str, expected: int) -> Waiting:
        return Waiting(stage, expected, self.recorder, self.poller, self.budget, self._finished,
                       self.timeout_s, self.poll_rate)

    def _wait_invocations(self, invocations: list[Future[Submission]], stage: str) -> Waiting:
        """Map: watches activations while later ones are still being invoked."""
        waiting = self._waiting(stage, len(invocations))
        unsent = list(invocations)
        try:
            while unsent or waiting.pending:
                round_start = time.monotonic()
                # one look at each future: one that ends between two looks would be neither
                # admitted nor left unsent, and so lost
                sent = [f.done() for f in unsent]
                for invocation in compress(unsent, sent):
                    waiting.admit(invocation.result())
                unsent = [f for f, done in zip(unsent, sent, strict=True) if not done]
                found = waiting.poll()
                waiting.report(len(unsent))
                if not (unsent or waiting.pending):
                    break
                waiting.pace(round_start, found, len(unsent))
        finally:
            # Invocations not yet sent never will be; those in flight are let finish so
            # their activations are on record as unfinished.
            for invocation in unsent:
                invocation.cancel()
            for invocation in unsent:
                if not invocation.cancelled() and invocation.result().activation_id is not None:
                    waiting.admit(invocation.result())
            waiting.abandon()
        return waiting

    def _wait_packs(self, packs: list[Submission], stage: str) -> Waiting:
        """Burst: watches the packs one invocation started."""
        waiting = self._waiting(stage, len(packs))
        try:
            for pack in packs:
                waiting.admit(pack)
            while waiting.pending:
                round_start = time.monotonic()
                found = waiting.poll()
                waiting.report(0)
                if not waiting.pending:
                    break
                waiting.pace(round_start, found, 0)
        finally:
            waiting.abandon()
        return waiting

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
