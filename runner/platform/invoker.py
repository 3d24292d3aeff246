"""The invoker: turns accepted requests into activations run by containers.

It owns scheduling (worker slots, gang grants for bursts), builds each stdin
line, interprets the answer, and stores the record once the activation ended;
blocking requests wait on a per-activation future.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.platform.actions import Action
from runner.platform.bursts import BurstDirs, burst_info, pack_fields, plan_packs
from runner.platform.containers import (
    ContainerPool,
    ContainerSpec,
    Outcome,
    StartError,
    WarmKey,
    now_ms,
)
from runner.platform.pipes import ActivationLogs
from runner.platform.records import (
    APPLICATION_ERROR,
    DEVELOPER_ERROR,
    INTERNAL_ERROR,
    SUCCESS,
    Finished,
    activation_record,
    interpret,
)
from runner.platform.settings import Settings
from runner.platform.slots import WorkerSlots
from runner.platform.store import ActivationStore

log = logging.getLogger(__name__)
_ACK = "__OW_WAIT_FOR_ACK"


def new_id() -> str:
    """32 lowercase hex digits, the shape of OpenWhisk activation and transaction ids."""
    return uuid.uuid4().hex


def judge(outcome: Outcome, timeout_ms: int, pack: bool) -> tuple[int, Any]:
    """Status code and result of a run, with OpenWhisk's messages for failed runs."""
    if outcome.timed_out:
        return DEVELOPER_ERROR, {
            "error": f"The action exceeded its time limits of {timeout_ms} milliseconds."
        }
    if outcome.answer is None:
        return DEVELOPER_ERROR, {
            "error": "The action did not produce a valid response and exited unexpectedly "
            f"({outcome.exit_note})."
        }
    return interpret(outcome.answer, pack)


@dataclass(frozen=True)
class Job:
    """One activation to run: a map invocation or one pack of a burst."""

    action: Action
    activation_id: str
    accepted_ms: int
    value: Any
    fields: dict[str, Any]
    workers: int
    pack: bool


@dataclass(frozen=True)
class BurstOptions:
    """The query parameters of a burst invocation, already validated."""

    granularity: int | None
    backend_type: str
    chunk_size: int | None
    debug: bool


class Invoker:
    """Schedules jobs onto worker slots and containers and records how they ended."""

    def __init__(self, settings: Settings, pool: ContainerPool, store: ActivationStore) -> None:
        self._settings = settings
        self._pool = pool
        self._store = store
        self.slots = WorkerSlots(settings.slots)
        self._burst_dirs = BurstDirs(settings.workdir)
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ack_everywhere = bool(os.environ.get(_ACK))

    def invoke(self, action: Action, params: dict[str, Any], accepted_ms: int) -> str:
        """Queue a map activation; return its id at once."""
        job = Job(action, new_id(), accepted_ms, params, {"transaction_id": new_id()}, 1, False)
        self._expect(job.activation_id)
        self._spawn(self._run_map(job))
        return job.activation_id

    def invoke_burst(
        self, action: Action, values: list[dict[str, Any]], options: BurstOptions, accepted_ms: int
    ) -> list[str]:
        """Queue all packs of a burst as one gang; return their ids in group order."""
        packs = plan_packs(len(values), options.granularity)
        local_dir = self._burst_dirs.create() if options.backend_type == "Local" else None
        backend = {
            "backend_type": options.backend_type,
            "uri": str(local_dir) if local_dir else self._settings.backend_uri,
        }
        info, burst_id = burst_info(packs), new_id()
        jobs = [
            Job(
                action,
                new_id(),
                accepted_ms,
                values[first : last + 1],
                pack_fields(group, burst_id, info, backend, options.chunk_size, options.debug),
                last - first + 1,
                True,
            )
            for group, (first, last) in enumerate(packs)
        ]
        for job in jobs:
            self._expect(job.activation_id)
        self._spawn(self._run_burst(jobs, local_dir))
        return [job.activation_id for job in jobs]

    async def wait(self, activation_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The record once the activation ended, or None if it takes longer than ``timeout_s``."""
        future = self._waiters.get(activation_id)
        if future is None:
            return self._store.get(activation_id)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout_s)
        except asyncio.TimeoutError:
            return None

    async def close(self) -> None:
        """Cancel queued and running activations (their processes are killed by the pool)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._burst_dirs.close()

    def _expect(self, activation_id: str) -> None:
        self._waiters[activation_id] = asyncio.get_running_loop().create_future()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_map(self, job: Job) -> None:
        await self.slots.acquire(1)
        try:
            finished = await self._execute(job)
        finally:
            self.slots.release(1)
        self._finish(job, finished)

    async def _run_burst(self, jobs: list[Job], local_dir: Path | None) -> None:
        try:
            await self.slots.acquire(sum(job.workers for job in jobs))
            await asyncio.gather(*(self._run_pack(job) for job in jobs))
        finally:
            if local_dir is not None:
                BurstDirs.remove(local_dir)

    async def _run_pack(self, job: Job) -> None:
        try:
            finished = await self._execute(job)
        finally:
            self.slots.release(job.workers)
        self._finish(job, finished)

    def _finish(self, job: Job, finished: Finished) -> None:
        record = activation_record(job.action, self._settings.namespace, finished)
        self._store.add(record)
        future = self._waiters.pop(job.activation_id, None)
        if future is not None and not future.done():
            future.set_result(record)

    def _needs_ack(self, action: Action) -> bool:
        flag = action.annotation(_ACK)
        return self._ack_everywhere or (bool(flag) and flag != "false")

    async def _execute(self, job: Job) -> Finished:
        """Run the job in a container; any failure of ours becomes a whisk internal error."""
        logs = ActivationLogs(job.action.limits["logs"] * 1024 * 1024)
        try:
            return await self._attempt(job, logs)
        except Exception as exc:
            log.exception("activation %s failed inside the platform", job.activation_id)
            now = now_ms()
            error = {"error": f"An internal error occurred: {exc!r}"}
            return self._finished(job, now, now, None, INTERNAL_ERROR, error, logs)

    async def _attempt(self, job: Job, logs: ActivationLogs) -> Finished:
        action = job.action
        timeout = action.limits["timeout"]
        spec = ContainerSpec(
            WarmKey(action.path, action.version, "pack" if job.pack else "map"),
            action.code_dir,
            self._needs_ack(action),
            timeout,
        )
        try:
            container, init_ms = await self._pool.acquire(spec, logs)
        except StartError as exc:
            now = now_ms()
            return self._finished(
                job, now, now, None, DEVELOPER_ERROR, {"error": exc.message}, logs, exc.timed_out
            )
        reusable = False
        try:
            start = now_ms()
            line = {
                "value": job.value,
                **job.fields,
                "activation_id": job.activation_id,
                "deadline": str(start + timeout),
                "action_name": f"/{action.path}",
                "namespace": action.namespace,
                "api_key": self._settings.api_key,
            }
            outcome = await container.run((json.dumps(line) + "\n").encode(), timeout, logs)
            end = now_ms()
            code, result = judge(outcome, timeout, job.pack)
            reusable = code in (SUCCESS, APPLICATION_ERROR)
        finally:
            self._pool.release(container, reusable)
        return self._finished(job, start, end, init_ms, code, result, logs, outcome.timed_out)

    @staticmethod
    def _finished(
        job: Job,
        start: int,
        end: int,
        init_ms: int | None,
        code: int,
        result: Any,
        logs: ActivationLogs,
        timed_out: bool = False,
    ) -> Finished:
        return Finished(
            job.activation_id,
            job.accepted_ms,
            start,
            end,
            init_ms,
            timed_out,
            code,
            result,
            logs.finish(),
        )
