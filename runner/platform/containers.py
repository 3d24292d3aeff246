"""Action processes ("containers"): one long-lived process per container and its pipes.

A container runs an action's command in its own process group: one JSON line per
activation on stdin, one JSON answer line on fd 3, stdout/stderr as logs
(docs/design.md, "The action loop"). With cgroups, each container also has a memory cgroup of
its own (``cgroups.py``), whose OOM-kill counter tells how a dead one ended.
Which container serves which activation is the pool's business (``pool.py``).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from runner.platform.cgroups import Cgroup, CgroupTree
from runner.platform.limits import MEMORY_EXHAUSTED, MemoryLimit
from runner.platform.pipes import (
    ActivationLogs,
    LineChannel,
    LineWriter,
    LogCapture,
    Oversized,
)
from runner.platform.spawn import Process, spawn

# How long a process that closed fd 3 gets to finish exiting before it is killed.
_EXIT_GRACE_S = 2.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class WarmKey:
    """Containers with equal keys are interchangeable; role separates map from pack use.

    The memory limit is part of it: a cgroup is sized for its container's workers.
    """

    invoker: int
    path: str
    revision: int  # unique per deployment, even when a re-created action reuses a version
    role: str
    memory: MemoryLimit


@dataclass(frozen=True)
class ContainerSpec:
    """How to start a process for one action version on one invoker."""

    key: WarmKey
    command: tuple[str, ...]
    cwd: Path
    wait_for_ack: bool
    init_timeout_ms: int
    log_limit_bytes: int


@dataclass(frozen=True)
class Span:
    """An interval in epoch milliseconds, e.g. a cold start from spawn to readiness."""

    begin_ms: int
    end_ms: int

    @property
    def ms(self) -> int:
        return self.end_ms - self.begin_ms


@dataclass
class Outcome:
    """What came back from one activation: an answer line, a timeout, or a dead process."""

    answer: bytes | Oversized | None
    timed_out: bool = False
    exit_note: str = ""
    oom_kills: int = 0  # processes of the container the OOM killer ended during the run


class StartError(Exception):
    """The process could not be started or did not acknowledge its start."""

    def __init__(self, message: str, logs: list[str], timed_out: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.logs = logs
        self.timed_out = timed_out
        # Set by the pool when a spawned process failed to initialize: the failed
        # activation's record spans that initialization, as OpenWhisk's does.
        self.cold_start: Span | None = None


def _describe_exit(returncode: int | None) -> str:
    if returncode is None:
        return "it closed its result channel but kept running"
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class Container:
    """One running action process and its pipes."""

    def __init__(
        self,
        proc: Process,
        spec: ContainerSpec,
        fds: tuple[int, int, int, int],
        cgroup: Cgroup | None,
    ) -> None:
        stdin, answers, stdout, stderr = fds
        self.proc = proc
        self.cgroup = cgroup
        self.key = spec.key
        self.retired = False
        self.discarded = False
        self.idle_since = 0.0
        self.busy_since = 0.0
        # A cold start's interval and output, until the first activation takes them.
        self.cold_start: Span | None = None
        self.init_logs = ActivationLogs(spec.log_limit_bytes)
        self._killed = False
        self._stdin = LineWriter(stdin)
        self._channel = LineChannel(answers)
        self._logs = (LogCapture(stdout, "stdout"), LogCapture(stderr, "stderr"))

    @classmethod
    def start(
        cls, spec: ContainerSpec, env: dict[str, str], cgroups: CgroupTree | None
    ) -> Container:
        """Spawn the action's command in a new session (so its process group can be killed),
        inside a new memory cgroup when the spec's limit is one (``cgroups`` then exists).

        Synchronous on purpose: no await between spawning and handing the container
        to the pool, so a shutdown can never miss a process.
        """
        memory = spec.key.memory
        try:
            cgroup = None
            if memory.cgroup_bytes is not None:
                assert cgroups is not None, "a cgroup limit comes only with a cgroup tree"
                cgroup = cgroups.create(memory.cgroup_bytes)
        except OSError as exc:
            raise StartError(f"The action failed to start: {exc}", []) from exc
        in_r, in_w = os.pipe()
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            fds = (in_r, out_w, err_w, res_w)
            procs = cgroup.procs if cgroup is not None else None
            proc = spawn(spec.command, spec.cwd, env, fds, memory.data_limit_kb, procs)
        except OSError as exc:
            for fd in (in_w, res_r, out_r, err_r):
                os.close(fd)
            if cgroup is not None:
                cgroup.remove()
            raise StartError(f"The action failed to start: {exc}", []) from exc
        finally:
            for fd in (in_r, res_w, out_w, err_w):
                os.close(fd)
        return cls(proc, spec, (in_w, res_r, out_r, err_r), cgroup)

    async def await_ack(self, timeout_ms: int) -> None:
        """Wait for ``{"ok": true}`` on fd 3 (``__OW_WAIT_FOR_ACK``); output goes to init_logs.

        Raises StartError when the ack does not come; the caller discards the container.
        """
        self._attach(self.init_logs)
        oom_base = self._oom_kills()
        try:
            line = await asyncio.wait_for(self._channel.next_line(), timeout_ms / 1000)
        except asyncio.TimeoutError:
            self._detach()
            raise StartError(
                f"The action exceeded its time limits of {timeout_ms} milliseconds "
                "during initialization.",
                self.init_logs.finish(),
                timed_out=True,
            ) from None
        self._detach()
        if line is None:
            note = await self._exit_note()
            if self._oom_kills() > oom_base:
                raise StartError(MEMORY_EXHAUSTED, self.init_logs.finish())
            raise StartError(
                f"The action did not initialize and exited unexpectedly ({note}).",
                self.init_logs.finish(),
            )
        ack = None
        if isinstance(line, bytes):
            try:
                ack = json.loads(line)
            except ValueError:
                pass
        if not isinstance(ack, dict) or ack.get("ok") is not True:
            shown = line[:200].decode("utf-8", "replace") if isinstance(line, bytes) else "..."
            raise StartError(
                f'The action answered "{shown}" instead of {{"ok": true}}.', self.init_logs.finish()
            )

    def take_init(self) -> tuple[Span | None, list[str]]:
        """The cold start's interval and output, for the first activation only."""
        init = self.cold_start, self.init_logs.lines
        self.cold_start, self.init_logs.lines = None, []
        return init

    def _attach(self, logs: ActivationLogs) -> None:
        for capture in self._logs:
            capture.drain()  # output from while it was idle belongs to no activation
            capture.flush_partial()
            capture.sink = logs

    def _detach(self) -> None:
        for capture in self._logs:
            capture.drain()
            capture.flush_partial()
            capture.sink = None

    async def run(
        self, payload: bytes, timeout_ms: int, logs: ActivationLogs, max_answer: int
    ) -> Outcome:
        """Send one activation line and wait for the answer on fd 3, at most ``timeout_ms``.

        An answer longer than ``max_answer`` bytes comes back as :class:`Oversized`.
        """
        self._channel.discard_pending()
        self._channel.limit = max_answer
        self._attach(logs)
        oom_base = self._oom_kills()
        self._stdin.write(payload)
        try:
            line = await asyncio.wait_for(self._channel.next_line(), timeout_ms / 1000)
        except asyncio.TimeoutError:
            self.kill()
            return Outcome(None, timed_out=True)
        finally:
            self._detach()
        if line is None:
            note = await self._exit_note()
            return Outcome(None, exit_note=note, oom_kills=self._oom_kills() - oom_base)
        return Outcome(line, oom_kills=self._oom_kills() - oom_base)

    def _oom_kills(self) -> int:
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    async def _exit_note(self) -> str:
        """After fd 3 closed: give the process a moment to exit, then say how it ended."""
        deadline = time.monotonic() + _EXIT_GRACE_S
        delay = 0.001
        while self.alive and time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
        self.kill()  # its children too; then reaping tells how the process itself ended
        return _describe_exit(self.proc.poll())

    @property
    def alive(self) -> bool:
        return self.proc.alive

    def reap(self) -> bool:
        """After :meth:`kill`: whether the process is reaped and its cgroup, if any, removed.

        Called again until it is: a cgroup can only be removed once every process
        in it has exited.
        """
        if self.proc.poll() is None:
            return False
        if self.cgroup is not None:
            if not self.cgroup.remove():
                return False
            self.cgroup = None
        return True

    def kill(self) -> None:
        """Kill the whole process group (the action's children too) and close our pipe ends."""
        if self._killed:
            return
        self._killed = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._stdin.close()
        self._channel.close()
        for capture in self._logs:
            capture.drain()  # what it wrote before dying still belongs to the activation
            capture.flush_partial()
            capture.close()
