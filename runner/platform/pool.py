"""The warm pool: which container serves which activation, and when another one starts.

Activations that find no idle container wait in a per-key FIFO; the first
container to become available (one finishing an activation, or one finishing
its cold start) serves the oldest waiter. Starts are decided by
``scaling.wants_start`` and limited to ``max_starting`` at once (each is mostly
CPU). Each invoker may hold at most ``max_processes`` processes; the least
recently used idle ones are evicted to make room. Killed containers are reaped
soon after, and their memory cgroups removed once empty.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from dataclasses import dataclass, field

from runner.platform.cgroups import CgroupTree
from runner.platform.containers import (
    Container,
    ContainerSpec,
    Span,
    StartError,
    WarmKey,
    now_ms,
)
from runner.platform.scaling import Demand, recheck_after_s, smoothed, wants_start

log = logging.getLogger(__name__)
_SHUTDOWN_WAIT_S = 5.0
# Killed containers are looked at again after this long, then less and less often.
_REAP_FIRST_S = 0.02
_REAP_MAX_S = 2.0


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(eq=False)
class _Group:
    """The containers and waiting activations of one warm key."""

    spec: ContainerSpec
    waiters: deque[asyncio.Future[Container]] = field(default_factory=deque)
    idle: list[Container] = field(default_factory=list)
    busy: set[Container] = field(default_factory=set)
    starting: int = 0
    run_ms: float | None = None
    init_ms: float | None = None
    retired: bool = False
    timer: asyncio.TimerHandle | None = None

    def demand(self, now: float) -> Demand:
        longest = max((now - c.busy_since for c in self.busy), default=0.0)
        return Demand(
            waiting=len(self.waiters),
            starting=self.starting,
            ready=len(self.idle) + len(self.busy),
            longest_busy_ms=longest * 1000,
            run_ms=self.run_ms,
            init_ms=self.init_ms,
            gang=self.spec.key.role == "pack",
        )


class ContainerPool:
    """Warm reuse, start decisions, the cold-start limit and each invoker's process budget."""

    def __init__(
        self,
        env: dict[str, str],
        max_starting: int,
        max_processes: int,
        cgroups: CgroupTree | None = None,
    ) -> None:
        self._env = env
        self.cgroups = cgroups  # None: memory limited by RLIMIT_DATA
        self._max_starting = max_starting
        self._max_processes = max_processes
        self._cpus = usable_cpus()
        self._groups: dict[WarmKey, _Group] = {}
        self._processes: dict[int, int] = {}  # invoker -> live processes
        self._starting = 0
        self._launching: set[Container] = set()
        self._start_tasks: set[asyncio.Task[None]] = set()
        self._dying: list[Container] = []
        self._reaper: asyncio.TimerHandle | None = None
        self._reap_delay = _REAP_FIRST_S
        self._closed = False

    def has_idle(self, key: WarmKey) -> bool:
        group = self._groups.get(key)
        return bool(group and group.idle)

    async def acquire(self, spec: ContainerSpec) -> Container:
        """A container for ``spec``: an idle one now, or the first that becomes available.

        Raises StartError when the cold start meant for this activation fails.
        """
        if self._closed:
            raise StartError("The platform is shutting down.", [])
        group = self._groups.get(spec.key)
        if group is None:
            group = self._groups[spec.key] = _Group(spec)
        while group.idle:
            container = group.idle.pop()  # the most recently used is the warmest
            if container.alive:
                return self._hand_out(group, container)
            self._discard(container)
        future: asyncio.Future[Container] = asyncio.get_running_loop().create_future()
        group.waiters.append(future)
        self._pump(group)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled() and future.exception() is None:
                self.release(future.result(), reusable=True)  # handed over as we were cancelled
            elif not future.done():
                group.waiters.remove(future)
            raise

    def release(self, container: Container, reusable: bool, run_ms: float | None = None) -> None:
        """Take a container back after an activation; unusable or retired ones are killed."""
        group = self._groups.get(container.key)
        if group is None or container not in group.busy:
            self._discard(container)
            return
        group.busy.discard(container)
        if run_ms is not None:
            group.run_ms = smoothed(group.run_ms, run_ms)
        if reusable and not (container.retired or group.retired) and container.alive:
            self._offer(group, container)
        else:
            self._discard(container)
            self._pump(group)
            if group.retired:
                self._forget_if_empty(group)
        self._reap()

    def retire(self, path: str) -> None:
        """The action changed or was deleted: its processes must not serve new versions."""
        for group in [g for k, g in self._groups.items() if k.path == path]:
            group.retired = True
            for container in group.idle:
                self._discard(container)
            group.idle.clear()
            for container in group.busy:
                container.retired = True
            self._forget_if_empty(group)

    def _hand_out(self, group: _Group, container: Container) -> Container:
        container.busy_since = time.monotonic()
        group.busy.add(container)
        return container

    def _offer(self, group: _Group, container: Container) -> None:
        """An available container serves the oldest waiter, or waits idle for the next."""
        while group.waiters:
            future = group.waiters.popleft()
            if not future.done():
                future.set_result(self._hand_out(group, container))
                return
        if group.retired:
            self._discard(container)
            self._forget_if_empty(group)
            return
        container.idle_since = time.monotonic()
        group.idle.append(container)

    def _pump(self, group: _Group) -> None:
        """Start containers for ``group`` while it wants them and start slots are free."""
        if self._closed:
            return
        now = time.monotonic()
        while self._starting < self._max_starting and wants_start(group.demand(now), self._cpus):
            if not self._make_room(group.spec.key.invoker):
                break
            self._starting += 1
            group.starting += 1
            task = asyncio.get_running_loop().create_task(self._start(group))
            self._start_tasks.add(task)
            task.add_done_callback(self._start_tasks.discard)
        backlog = len(group.waiters) > group.starting
        if backlog and group.timer is None and self._starting < self._max_starting:
            # Declined for now: the busy containers' elapsed time grows, so look again later.
            delay = recheck_after_s(group.init_ms)
            group.timer = asyncio.get_running_loop().call_later(delay, self._on_timer, group)

    def _on_timer(self, group: _Group) -> None:
        group.timer = None
        self._pump(group)

    async def _start(self, group: _Group) -> None:
        """One cold start for ``group``; its process was already counted by ``_make_room``."""
        spec = group.spec
        begin = now_ms()
        try:
            container = Container.start(spec, self._env_for(spec), self.cgroups)
        except StartError as exc:
            self._processes[spec.key.invoker] -= 1  # nothing was spawned
            self._started(group, None, exc)
            return
        self._launching.add(container)
        try:
            if spec.wait_for_ack:
                await container.await_ack(spec.init_timeout_ms)
        except StartError as exc:
            exc.cold_start = Span(begin, now_ms())
            self._discard(container)
            self._started(group, None, exc)
        else:
            container.cold_start = Span(begin, now_ms())
            group.init_ms = smoothed(group.init_ms, container.cold_start.ms)
            self._started(group, container, None)
        finally:
            self._launching.discard(container)

    def _started(
        self, group: _Group, container: Container | None, error: StartError | None
    ) -> None:
        """A start ended: its container serves, or its error fails the oldest waiter."""
        self._starting -= 1
        group.starting -= 1
        if error is not None:
            self._fail_oldest(group, error)
        elif container is not None:
            if self._closed:
                self._discard(container)
            else:
                self._offer(group, container)
        self._pump_all()

    def _env_for(self, spec: ContainerSpec) -> dict[str, str]:
        if not spec.wait_for_ack:
            return self._env
        return {**self._env, "__OW_WAIT_FOR_ACK": "true"}

    def _fail_oldest(self, group: _Group, error: StartError) -> None:
        """A failed start fails the activation that has waited longest (one per failure)."""
        while group.waiters:
            future = group.waiters.popleft()
            if not future.done():
                future.set_exception(error)
                return
        log.warning("a cold start of %s failed: %s", group.spec.key.path, error.message)

    def _pump_all(self) -> None:
        for group in [g for g in self._groups.values() if g.waiters]:
            self._pump(group)
        for group in [g for g in self._groups.values() if g.retired]:
            self._forget_if_empty(group)

    def _make_room(self, invoker: int) -> bool:
        """Evict least recently used idle processes of ``invoker`` while its budget is full."""
        while self._processes.get(invoker, 0) >= self._max_processes:
            groups = [g for k, g in self._groups.items() if k.invoker == invoker and g.idle]
            if not groups:
                return False
            oldest = min(groups, key=lambda g: g.idle[0].idle_since)
            self._discard(oldest.idle.pop(0))
        self._processes[invoker] = self._processes.get(invoker, 0) + 1
        return True

    def _forget_if_empty(self, group: _Group) -> None:
        empty = not (group.idle or group.busy or group.waiters or group.starting)
        if empty and self._groups.get(group.spec.key) is group:
            del self._groups[group.spec.key]
            if group.timer is not None:
                group.timer.cancel()

    def _discard(self, container: Container) -> None:
        if container.discarded:
            return
        container.discarded = True
        container.kill()
        self._dying.append(container)
        invoker = container.key.invoker
        self._processes[invoker] = self._processes.get(invoker, 1) - 1
        self._reap_soon()

    def _reap(self) -> None:
        """Collect exit statuses of killed processes (no zombies pile up), remove their cgroups."""
        self._dying = [container for container in self._dying if not container.reap()]

    def _reap_soon(self) -> None:
        """Reap again shortly, even if no activation comes to call ``release``."""
        if self._reaper is not None or self._closed:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._reaper = loop.call_later(self._reap_delay, self._reap_later)

    def _reap_later(self) -> None:
        self._reaper = None
        self._reap()
        if self._dying:
            self._reap_delay = min(self._reap_delay * 2, _REAP_MAX_S)
            self._reap_soon()
        else:
            self._reap_delay = _REAP_FIRST_S

    def shutdown(self) -> None:
        """Kill every process group we started and wait (briefly) until they are gone."""
        self._closed = True
        for task in self._start_tasks:
            task.cancel()
        for container in self._launching:
            self._discard(container)
        self._launching.clear()
        for group in self._groups.values():
            for container in [*group.idle, *group.busy]:
                self._discard(container)
            group.idle.clear()
            group.busy.clear()
            while group.waiters:
                future = group.waiters.popleft()
                if not future.done():
                    future.set_exception(StartError("The platform is shutting down.", []))
            if group.timer is not None:
                group.timer.cancel()
        if self._reaper is not None:
            self._reaper.cancel()
            self._reaper = None
        deadline = time.monotonic() + _SHUTDOWN_WAIT_S
        for container in self._dying:
            container.proc.wait(max(0.0, deadline - time.monotonic()))
        delay = 0.001
        while True:
            self._reap()  # cgroups go once their last process (maybe not our child) is gone
            if not self._dying or time.monotonic() >= deadline:
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        self._dying.clear()
