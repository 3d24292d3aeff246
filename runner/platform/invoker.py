"""The invoker: turns accepted requests into activations run by containers.

It owns scheduling (invokers' worker slots, gang grants for bursts), builds each
stdin line, interprets the answer, and stores the record once the activation
ended; blocking requests wait on a per-activation future. Activations still
queued or running when the platform stops are recorded as whisk internal
errors, so no accepted activation is left without a record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
import zlib
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.platform.actions import Action
from runner.platform.bursts import BurstDirs, pack_fields
from runner.platform.cluster import Cluster
from runner.platform.containers import (
    ContainerSpec,
    Outcome,
    Span,
    StartError,
    WarmKey,
    now_ms,
)
from runner.platform.limits import (
    MEMORY_EXHAUSTED,
    blame_limits,
    blame_memory,
    container_memory,
    died_of_memory,
    oversized_answer,
    time_limit_exceeded,
)
from runner.platform.packing import Pack, burst_info, fit, plan_burst, plan_map
from runner.platform.pipes import ActivationLogs, Oversized
from runner.platform.pool import ContainerPool, usable_cpus
from runner.platform.records import (
    APPLICATION_ERROR,
    DEVELOPER_ERROR,
    INTERNAL_ERROR,
    SUCCESS,
    Finished,
    activation_record,
    interpret,
    pack_code,
    waited_init,
)
from runner.platform.settings import Settings
from runner.platform.store import ActivationStore
from runner.platform.throttles import Throttles

log = logging.getLogger(__name__)
_ACK = "__OW_WAIT_FOR_ACK"
STOPPED = "The platform stopped before the activation ended."


def new_id() -> str:
    """32 lowercase hex digits, the shape of OpenWhisk activation and transaction ids."""
    return uuid.uuid4().hex


def judge(
    outcome: Outcome, timeout_ms: int, pack: bool, logs: list[str], allowed: int
) -> tuple[int, Any]:
    """Status code and result of a run, with OpenWhisk's messages for failed runs.

    ``allowed`` is the largest answer in bytes; ``logs`` the run's log lines. A
    process that died while its cgroup counted an OOM kill ran out of memory,
    whatever its logs say; without a cgroup (or when the kernel refused an
    allocation before the limit was reached) its last log lines may say so.
    """
    if outcome.timed_out:
        return DEVELOPER_ERROR, {"error": time_limit_exceeded(timeout_ms)}
    if outcome.answer is None:
        if outcome.oom_kills or died_of_memory(logs):
            return DEVELOPER_ERROR, {"error": MEMORY_EXHAUSTED}
        return DEVELOPER_ERROR, {
            "error": "The action did not produce a valid response and exited unexpectedly "
            f"({outcome.exit_note})."
        }
    if isinstance(outcome.answer, Oversized):
        return DEVELOPER_ERROR, {"error": oversized_answer(outcome.answer.length, allowed)}
    code, result = interpret(outcome.answer, pack)
    if pack and isinstance(result, list):
        result = blame_limits(result, timeout_ms)
        if outcome.oom_kills:
            result = blame_memory(result, outcome.oom_kills)
        code = pack_code(result)
    return code, result


@dataclass(frozen=True)
class Job:
    """One activation to run: a map invocation or one pack of a burst."""

    action: Action
    activation_id: str
    accepted_ms: int
    value: Any
    fields: dict[str, Any]
    workers: int
    burst: dict[str, Any] | None = None  # the ``burst`` annotation of a pack

    @property
    def pack(self) -> bool:
        return self.burst is not None


@dataclass(frozen=True)
class BurstOptions:
    """The query parameters of a burst invocation, already validated."""

    granularity: int | None
    join: bool
    backend_type: str
    chunk_size: int | None
    debug: bool


class Invoker:
    """Schedules jobs onto invokers' slots and containers and records how they ended."""

    def __init__(
        self,
        settings: Settings,
        pool: ContainerPool,
        store: ActivationStore,
        throttles: Throttles,
    ) -> None:
        self._settings = settings
        self._pool = pool
        self._store = store
        self._throttles = throttles
        self._cpus = usable_cpus()
        self.cluster = Cluster(settings.invokers, settings.slots)
        self._burst_dirs = BurstDirs(settings.workdir)
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._pending: dict[str, Job] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ack_everywhere = bool(os.environ.get(_ACK))

    def fits(self, workers: int, granularity: int | None, join: bool) -> bool:
        """Whether a burst could ever run here: all its packs at once on empty invokers."""
        capacity = [self.cluster.slots] * self.cluster.invokers
        return plan_burst(capacity, workers, granularity, join) is not None

    def invoke(self, action: Action, params: dict[str, Any], accepted_ms: int) -> str:
        """Queue a map activation; return its id at once."""
        self._throttles.admit(1)
        job = Job(action, new_id(), accepted_ms, params, {"transaction_id": new_id()}, 1)
        self._expect(job)
        self._spawn(self._run_map(job))
        return job.activation_id

    def invoke_burst(
        self, action: Action, values: list[dict[str, Any]], options: BurstOptions, accepted_ms: int
    ) -> list[str]:
        """Queue all packs of a burst as one gang; return their ids in group order.

        The packs are decided now, from the slots free now (or, if the burst must
        wait, from empty invokers): their activation ids are the answer.
        """
        workers = len(values)
        self._throttles.admit(workers)
        args = (workers, options.granularity, options.join)
        packs = None if self.cluster.queued else plan_burst(self.cluster.free, *args)
        packs = packs or plan_burst([self.cluster.slots] * self.cluster.invokers, *args)
        assert packs is not None, "checked by fits()"
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
                values[pack.first : pack.last + 1],
                pack_fields(group, burst_id, info, backend, options.chunk_size, options.debug),
                pack.workers,
                {"id": burst_id, "group": str(group), "workers": [pack.first, pack.last]},
            )
            for group, pack in enumerate(packs)
        ]
        for job in jobs:
            self._expect(job)
        self._spawn(self._run_burst(jobs, packs, local_dir))
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
        """Cancel queued and running activations and record them as stopped."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        now = now_ms()
        for job in list(self._pending.values()):
            self._finish(job, self._stopped(job, now))
        self._burst_dirs.close()

    def _expect(self, job: Job) -> None:
        self._waiters[job.activation_id] = asyncio.get_running_loop().create_future()
        self._pending[job.activation_id] = job
        self._store.running(activation_record(
            job.action, self._settings.namespace, self._stopped(job, job.accepted_ms)))

    @staticmethod
    def _stopped(job: Job, now: int) -> Finished:
        """How a job ends when the platform stops first."""
        return Finished(job.activation_id, job.accepted_ms, now, now, None, False, INTERNAL_ERROR,
                        {"error": STOPPED}, [], job.burst)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _warm_key(self, action: Action, invoker: int, pack: bool, workers: int = 1) -> WarmKey:
        memory = container_memory(
            action.limits["memory"], workers, self._pool.cgroups is not None, self._cpus
        )
        return WarmKey(invoker, action.path, action.revision, "pack" if pack else "map", memory)

    async def _run_map(self, job: Job) -> None:
        action = job.action
        home = zlib.crc32(action.path.encode()) % self.cluster.invokers
        placed = await self.cluster.place(
            lambda free: plan_map(
                free, home, lambda i: self._pool.has_idle(self._warm_key(action, i, False))
            )
        )
        try:
            finished = await self._execute(job, placed[0].invoker)
        finally:
            self.cluster.release(placed)
        self._finish(job, finished)

    async def _run_burst(self, jobs: list[Job], packs: list[Pack], local_dir: Path | None) -> None:
        try:
            placed = await self.cluster.place(lambda free: fit(free, packs))
            runs = (self._run_pack(job, pack) for job, pack in zip(jobs, placed, strict=True))
            await asyncio.gather(*runs)
        finally:
            if local_dir is not None:
                BurstDirs.remove(local_dir)

    async def _run_pack(self, job: Job, pack: Pack) -> None:
        try:
            finished = await self._execute(job, pack.invoker)
        finally:
            self.cluster.release([pack])
        self._finish(job, finished)

    def _finish(self, job: Job, finished: Finished) -> None:
        if self._pending.pop(job.activation_id, None) is None:
            return
        self._throttles.done(job.workers)
        record = activation_record(job.action, self._settings.namespace, finished)
        self._store.add(record)
        future = self._waiters.pop(job.activation_id, None)
        if future is not None and not future.done():
            future.set_result(record)

    def _needs_ack(self, action: Action) -> bool:
        flag = action.annotation(_ACK)
        return (
            action.runtime.own_loop or self._ack_everywhere or (bool(flag) and flag != "false")
        )

    async def _execute(self, job: Job, invoker: int) -> Finished:
        """Run the job in a container; any failure of ours becomes a whisk internal error."""
        logs = ActivationLogs(job.action.limits["logs"] * 1024 * 1024)
        try:
            return await self._attempt(job, invoker, logs)
        except Exception as exc:
            log.exception("activation %s failed inside the platform", job.activation_id)
            now = now_ms()
            error = {"error": f"An internal error occurred: {exc!r}"}
            return self._finished(job, now, now, None, INTERNAL_ERROR, error, logs)

    async def _attempt(self, job: Job, invoker: int, logs: ActivationLogs) -> Finished:
        action = job.action
        limits = action.limits
        timeout = limits["timeout"]
        spec = ContainerSpec(
            self._warm_key(action, invoker, job.pack, job.workers),
            action.runtime.command,
            action.runtime.directory,
            self._needs_ack(action),
            timeout,
            limits["logs"] * 1024 * 1024,
        )
        try:
            container = await self._pool.acquire(spec)
        except StartError as exc:
            logs.extend(exc.logs)
            now = now_ms()
            init = waited_init(exc.cold_start, job.accepted_ms)
            result = {"error": exc.message}
            return self._finished(job, now, now, init, DEVELOPER_ERROR, result, logs, exc.timed_out)
        cold_start, init_logs = container.take_init()
        init = waited_init(cold_start, job.accepted_ms)
        logs.extend(init_logs)
        reusable, run_ms = False, None
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
            allowed = self._settings.max_result_bytes * job.workers
            payload = (json.dumps(line) + "\n").encode()
            outcome = await container.run(payload, timeout, logs, allowed)
            end = now_ms()
            code, result = judge(outcome, timeout, job.pack, logs.lines, allowed)
            # An oversized answer was still a complete answer: the process can serve again.
            reusable = code in (SUCCESS, APPLICATION_ERROR) or isinstance(outcome.answer, Oversized)
            run_ms = end - start
        finally:
            self._pool.release(container, reusable, run_ms)
        return self._finished(job, start, end, init, code, result, logs, outcome.timed_out)

    @staticmethod
    def _finished(
        job: Job,
        run_start: int,
        end: int,
        init: Span | None,
        code: int,
        result: Any,
        logs: ActivationLogs,
        timed_out: bool = False,
    ) -> Finished:
        return Finished(
            job.activation_id,
            job.accepted_ms,
            run_start,
            end,
            init,
            timed_out,
            code,
            result,
            logs.finish(),
            job.burst,
        )
